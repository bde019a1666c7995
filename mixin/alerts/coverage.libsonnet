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
