// The exporter's own health: is it scraped, does each source refresh.
local h = import '../lib/helpers.libsonnet';

function(c) {
  name: 'salesforce-exporter',
  rules: [
    {
      alert: 'SalesforceExporterDown',
      expr: 'up{%(salesforceExporterSelector)s} == 0' % c,
      'for': c.exporterDownFor,
      labels: { severity: 'critical' },
      annotations: {
        summary: 'The Salesforce OAuth exporter is down.',
        description: 'Prometheus cannot scrape {{ $labels.instance }} (job {{ $labels.job }}): OAuth access to its orgs is not being watched.',
      },
    },
    {
      alert: 'SalesforceExporterAbsent',
      expr: 'absent(up{%(salesforceExporterSelector)s})' % c,
      'for': c.exporterDownFor,
      labels: { severity: 'critical' },
      annotations: {
        summary: 'The Salesforce OAuth exporter has disappeared from Prometheus.',
        description: 'No target matches {%(salesforceExporterSelector)s}: OAuth access to the orgs is not being watched.' % c,
      },
    },
    {
      alert: 'SalesforceExporterDownForOrg',
      // Not a page (severity none): the source of the Alertmanager inhibition
      // that holds back the health and coverage alerts of the orgs a down
      // target served (alertmanager/inhibit_rules.yaml). One series per down
      // target and org it reported within coverageLookback, unless another
      // target still reports that org (a replica, or the org moved to another
      // shard): the orgs of the other targets keep every alert.
      expr: |||
        max_over_time(salesforce_up{%(salesforceExporterSelector)s}[%(coverageLookback)s]) >= 0
          and on(%(haDropLabels)s, job) (up{%(salesforceExporterSelector)s} == 0)
          unless on(%(orgMatchLabels)s) salesforce_up{%(salesforceExporterSelector)s}
      ||| % c,
      'for': c.exporterDownFor,
      labels: { severity: 'none' },
      annotations: {
        summary: 'An org is not watched because the exporter target that served it is down (inhibition only).',
        description: "Org {{ $labels.org }} was served by {{ $labels.instance }} (job {{ $labels.job }}), which is down; no other target reports it. SalesforceExporterDown pages for it; this alert only holds back the org's health and coverage alerts in Alertmanager.",
      },
    },
    {
      alert: 'SalesforceSourceFailing',
      // A required source, or an optional one that worked before and broke.
      // An optional source that never worked (a permission the integration
      // user never had) is SalesforceOptionalSourceUnavailable, not a page.
      // Only once a run has ended (salesforce_refresh_duration_seconds is
      // published after the first): a first read after a restart that takes
      // longer than the for-duration (a full OauthToken read of a big org)
      // is not a failure.
      expr: |||
        %s == 0
        and on(%s, source) %s
        and on(%s, source) (
          %s
          or %s
        )
      ||| % [
        h.m(c, 'salesforce_source_up'),
        c.orgMatchLabels,
        h.m(c, 'salesforce_refresh_duration_seconds'),
        c.orgMatchLabels,
        h.m(c, 'salesforce_last_refresh_success_timestamp_seconds'),
        h.m(c, 'salesforce_source_up', 'source=~"%s"' % c.requiredSources),
      ],
      'for': c.sourceFailingFor,
      labels: { severity: 'warning' },
      annotations: {
        summary: 'A Salesforce data source keeps failing; its last good data is being served.',
        description: 'Source {{ $labels.source }} of org {{ $labels.org }} has failed for %(sourceFailingFor)s. The exporter logs say why (a missing permission, the API allocation, Salesforce errors).' % c,
      },
    },
    {
      alert: 'SalesforceOptionalSourceUnavailable',
      expr: |||
        %s == 0
        and on(%s, source) %s
        unless on(%s, source) %s
      ||| % [
        h.m(c, 'salesforce_source_up', 'source!~"%s"' % c.requiredSources),
        c.orgMatchLabels,
        h.m(c, 'salesforce_refresh_duration_seconds'),
        c.orgMatchLabels,
        h.m(c, 'salesforce_last_refresh_success_timestamp_seconds'),
      ],
      'for': c.optionalSourceUnavailableFor,
      labels: { severity: 'info' },
      annotations: {
        summary: 'An optional Salesforce data source has never worked since the exporter started.',
        description: 'Source {{ $labels.source }} of org {{ $labels.org }} has not succeeded once. Grant the permission the exporter log names, or disable the source in the config.',
      },
    },
    {
      alert: 'SalesforceDataStale',
      // Only sources that succeeded once; a source that never did is
      // SalesforceSourceFailing. Inhibited by SalesforceSourceFailing (see
      // alertmanager/inhibit_rules.yaml): one fault, one notification.
      local age = 'min without(%s) (time() - salesforce_last_refresh_success_timestamp_seconds{%s})' % [c.haDropLabels, c.salesforceExporterSelector],
      expr: |||
        (
          %s
            > on(%s, source) (%s * %s)
        )
        and (%s > %s)
      ||| % [age, c.orgMatchLabels, c.staleDataFactor, h.m(c, 'salesforce_exporter_refresh_interval_seconds'), age, c.staleDataMinSeconds],
      'for': c.staleDataFor,
      labels: { severity: 'warning' },
      annotations: {
        summary: 'Salesforce data is stale.',
        description: 'Source {{ $labels.source }} of org {{ $labels.org }} last refreshed {{ $value | humanizeDuration }} ago.',
      },
    },
    {
      alert: 'SalesforceAPIUsageDataStale',
      expr: 'min without(%s) (time() - salesforce_api_usage_data_end_timestamp_seconds{%s}) > %s' % [c.haDropLabels, c.salesforceExporterSelector, c.apiUsageStaleSeconds],
      'for': c.apiUsageDataStaleFor,
      labels: { severity: 'info' },
      annotations: {
        summary: 'No new ApiTotalUsage log data.',
        description: 'The newest API usage data of org {{ $labels.org }} ends {{ $value | humanizeDuration }} ago; the API surge and error-rate alerts are blind until new log files arrive.',
      },
    },
    {
      alert: 'SalesforceTokenVisibilityLimited',
      expr: '%s == 1' % h.m(c, 'salesforce_exporter_oauth_tokens_visibility_limited'),
      'for': c.tokenVisibilityLimitedFor,
      labels: { severity: 'warning' },
      annotations: {
        summary: 'The integration user sees only its own OAuth tokens.',
        description: 'Org {{ $labels.org }}: every OauthToken the exporter can read belongs to its own user. It lacks Customize Application, and the token metrics look like a clean org.',
      },
    },
    {
      alert: 'SalesforceSourceVisibilityNotFull',
      // limited: the integration user lacks a permission and the source's
      // figures are silently low; unverified: its permissions can't be read
      // (PermissionSetAssignment), so they may be. Either way the data can
      // look like a quiet org. Not critical: the data is partial, not wrong.
      expr: '%s == 1' % h.m(c, 'salesforce_source_visibility', 'visibility=~"limited|unverified"'),
      'for': c.sourceVisibilityFor,
      labels: { severity: 'warning' },
      annotations: {
        summary: 'A source may see only part of the org.',
        description: 'Org {{ $labels.org }}: the visibility of source {{ $labels.source }} is {{ $labels.visibility }}. Its figures may be silently low; the exporter log and `check` name the permission to grant.',
      },
    },
    {
      alert: 'SalesforceExporterOverBudget',
      expr: |||
        %s
          > on(%s) %s
      ||| % [h.m(c, 'salesforce_exporter_api_requests_24h'), c.orgMatchLabels, h.m(c, 'salesforce_exporter_api_budget_daily_requests')],
      'for': c.exporterOverBudgetFor,
      labels: { severity: 'warning' },
      annotations: {
        summary: 'The exporter used more than its share of the org API allocation.',
        description: 'Org {{ $labels.org }}: the exporter made {{ $value }} API requests in 24 hours, over its api_budget_percent. It stretches its intervals; check for repeated full syncs in its logs.',
      },
    },
    {
      alert: 'SalesforceExporterStorageWriteFailing',
      // Per exporter process and file: each replica writes its own folder.
      // A failed write is retried at every publish, so a last failure newer
      // than the last success is a write still failing, whatever the write
      // cadence (every minute or every 15): it fires once that has held for
      // storageWriteFailingFor. A write that failed and then succeeded (a passing fault)
      // has a newer success and is quiet at once; after a restart both times
      // start again (the failure time at 0, the success absent until the
      // first write).
      expr: |||
        salesforce_exporter_storage_last_write_failure_timestamp_seconds{%(salesforceExporterSelector)s}
          > salesforce_exporter_storage_last_write_success_timestamp_seconds{%(salesforceExporterSelector)s}
        or (
          salesforce_exporter_storage_last_write_failure_timestamp_seconds{%(salesforceExporterSelector)s} > 0
            unless salesforce_exporter_storage_last_write_success_timestamp_seconds{%(salesforceExporterSelector)s}
        )
      ||| % c,
      'for': c.storageWriteFailingFor,
      labels: { severity: 'warning' },
      annotations: {
        summary: 'The exporter cannot write its files; it serves from memory.',
        description: 'Org {{ $labels.org }}: {{ $labels.instance }} has failed to write its {{ $labels.file }} file in --storage.path for %s (a full disk, a read-only volume or a permission; its log says which). Nothing is lost while it runs; a restart would lose what was not written.' % h.humanDuration(c.storageWriteFailingFor),
      },
    },
    {
      alert: 'SalesforceExporterConfigReloadFailed',
      // Per exporter process: each one reloads its own file.
      expr: 'salesforce_exporter_config_last_reload_successful{%(salesforceExporterSelector)s} == 0' % c,
      'for': c.configReloadFailedFor,
      labels: { severity: 'warning' },
      annotations: {
        summary: 'The exporter could not reload its config; it runs the previous one.',
        description: '{{ $labels.instance }} rejected its new config file; its log names the file, line and key.',
      },
    },
  ],
}
