// Losing coverage must not look like all clear: when an org stops being
// reported, or a security source is turned off, every security alert of that
// org resolves without a word. These say so.
local h = import '../lib/helpers.libsonnet';

function(c) {
  name: 'salesforce-coverage',
  rules: [
    {
      alert: 'SalesforceOrgNotReported',
      // An org that reported in the last coverageLookback and no longer does
      // (removed from the config, or its exporter lost). Inhibited while the
      // exporter itself is down or absent.
      expr: |||
        max without(%(haDropLabels)s) (max_over_time(salesforce_up{%(salesforceExporterSelector)s}[%(coverageLookback)s]) >= 0)
        unless on(%(orgMatchLabels)s) max without(%(haDropLabels)s) (salesforce_up{%(salesforceExporterSelector)s})
      ||| % c,
      'for': c.coverageLostFor,
      labels: { severity: 'critical' },
      annotations: {
        summary: 'An org the exporter watched is no longer reported: its OAuth access is not watched.',
        description: 'Org {{ $labels.org }} reported in the last %(coverageLookback)s and no longer does. If it was removed from the config on purpose, silence this alert until it ends (%(coverageLookback)s after); otherwise restore the org.' % c,
      },
    },
    {
      alert: 'SalesforceSecuritySourceDisabled',
      expr: |||
        %s == 0
        and on(%s, source) (max without(%s) (max_over_time(salesforce_source_enabled{%s, source=~"%s"}[%s])) == 1)
      ||| % [
        h.m(c, 'salesforce_source_enabled', 'source=~"%s"' % c.securitySources),
        c.orgMatchLabels,
        c.haDropLabels,
        c.salesforceExporterSelector,
        c.securitySources,
        c.coverageLookback,
      ],
      'for': c.coverageLostFor,
      labels: { severity: 'critical' },
      annotations: {
        summary: 'A security data source was disabled: the alerts built on it went silent.',
        description: 'Org {{ $labels.org }}: source {{ $labels.source }} was enabled in the last %(coverageLookback)s and is disabled now. The alerts that read it resolve as if all were clear. Re-enable it, or silence this alert if the change is intended.' % c,
      },
    },
    {
      alert: 'SalesforceDetectionBaselineReset',
      // An app's baseline start (kept in the state file) only ever moves
      // earlier; a later one means its memory was lost. Compared across
      // targets (max without haDropLabels): an org moved to a replica with
      // its own storage, or one replica of an HA pair that lost its state,
      // shows a later start than the org had. The moved apps are those
      // whose start now is later than the earliest Prometheus held for them
      // in the lookback. Most of the org's apps moved (one app evicted or
      // re-baselined is not a reset); or the exporter says it started the
      // baseline from nothing: an unreadable state or baseline always, and
      // no state only when an app had an earlier start (not on install
      // day). A restart that kept the state, or a move with a shared
      // --storage.path and a lease, keeps every start: quiet.
      local start = 'max without(%(haDropLabels)s) (salesforce_connected_app_api_baseline_start_timestamp_seconds{%(salesforceExporterSelector)s})' % c,
      local moved = '%s > min_over_time((%s)[%s:%s])' % [start, start, c.detectionBaselineResetLookback, c.detectionBaselineResetStep],
      local reset(reason) = 'max by (%s) (time() - salesforce_exporter_detection_baseline_reset_timestamp_seconds{%s, reason=~"%s"} < %d)' % [c.orgMatchLabels, c.salesforceExporterSelector, reason, c.detectionBaselineResetLookbackSeconds],
      expr: |||
        (
          count by (%(orgMatchLabels)s) (%(moved)s) >= %(detectionBaselineResetMinApps)s
          and on(%(orgMatchLabels)s)
          count by (%(orgMatchLabels)s) (%(moved)s) / count by (%(orgMatchLabels)s) (%(start)s) > %(detectionBaselineResetShare)s
        )
        or on(%(orgMatchLabels)s)
        %(lost)s
        or on(%(orgMatchLabels)s)
        (
          %(none)s
          and on(%(orgMatchLabels)s) count by (%(orgMatchLabels)s) (%(moved)s) > 0
        )
      ||| % (c { moved: moved, start: start, lost: reset('set_aside|unreadable_version'), none: reset('no_state') }),
      'for': c.detectionBaselineResetFor,
      labels: { severity: 'warning' },
      annotations: {
        summary: "An org's detection baseline started again from nothing: the new-network alerts are blind until it is rebuilt.",
        description: "Org {{ $labels.org }}: most of its apps' detection baselines start later than Prometheus saw them in the last %(detectionBaselineResetLookback)s, or the exporter started the org's baseline from nothing (salesforce_exporter_detection_baseline_reset_timestamp_seconds names the reason: set_aside, unreadable_version, no_state). Until its apps have been watched for detection.min_baseline (7d by default) nothing counts as new: the new-network, new-object and late-day alerts cannot fire. The first-seen times start again, the surge alerts' high-water marks are absent for up to 28 days, and the dormant-app alert sees only idle time watched since. Usually an org moved to a replica with a storage folder of its own, a lost volume, or a state file this version could not read. To keep the memory, give the replicas one shared --storage.path with leases (README, Deploying > Sharding) and keep it across upgrades." % c,
      },
    },
    {
      alert: 'SalesforceExporterShardMissing',
      // Every org belongs to one shard of 0..N-1 (N = --orgs.shards). A shard
      // no replica serves leaves its orgs, and every org later hashed to it,
      // watched by nobody and reported by nobody (SalesforceOrgNotReported
      // cannot see an org that never reported). Distinct shard labels against
      // the largest N any replica was given.
      expr: |||
        count without(shard) (count without(%(haDropLabels)s, shards) (salesforce_exporter_shard_info{%(salesforceExporterSelector)s}))
          < max without(%(haDropLabels)s) (salesforce_exporter_shards{%(salesforceExporterSelector)s})
      ||| % c,
      'for': c.shardMissingFor,
      labels: { severity: 'critical' },
      annotations: {
        summary: 'A shard of the orgs has no exporter replica: its orgs are not watched.',
        description: 'Job {{ $labels.job }}: only {{ $value }} distinct shards report, fewer than the --orgs.shards the replicas were given. The orgs of the missing shards are watched by nobody. Run one replica per shard (the Helm chart sets --orgs.shards to its replicas).',
      },
    },
    {
      alert: 'SalesforceExporterShardsDisagree',
      // Replicas given different --orgs.shards hash the orgs differently: some
      // orgs are served twice and others by nobody. Normal while the count
      // changes, one pod after another; not once the change is over.
      expr: |||
        count without(shards) (count without(%(haDropLabels)s, shard) (salesforce_exporter_shard_info{%(salesforceExporterSelector)s})) > 1
      ||| % c,
      'for': c.shardsDisagreeFor,
      labels: { severity: 'critical' },
      annotations: {
        summary: 'Exporter replicas disagree on the number of shards: some orgs are watched by nobody.',
        description: 'Job {{ $labels.job }}: the replicas report {{ $value }} different --orgs.shards values. Give every replica the same --orgs.shards, equal to the number of replicas.',
      },
    },
  ],
}
