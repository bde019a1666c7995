local withRunbook(c) = function(rule) rule {
  annotations+: { runbook_url: c.runbookURLPattern % std.asciiLower(rule.alert) },
};

{
  prometheusAlerts+:: {
    local c = $._config,
    local rb = withRunbook(c),
    groups+: [
      {
        name: 'salesforce-exporter',
        rules: std.map(rb, [
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
            alert: 'SalesforceSourceFailing',
            expr: 'salesforce_source_up{%(salesforceExporterSelector)s} == 0' % c,
            'for': c.sourceFailingFor,
            labels: { severity: 'warning' },
            annotations: {
              summary: 'A Salesforce data source keeps failing; its last good data is being served.',
              description: 'Source {{ $labels.source }} of org {{ $labels.org }} has failed for %(sourceFailingFor)s. The exporter logs say why (a missing permission, the API allocation, Salesforce errors).' % c,
            },
          },
          {
            alert: 'SalesforceDataStale',
            // Only sources that succeeded once; a source that never did is SalesforceSourceFailing.
            expr: |||
              (
                time() - salesforce_last_refresh_success_timestamp_seconds{%(salesforceExporterSelector)s}
                  > %(staleDataFactor)s * salesforce_exporter_refresh_interval_seconds{%(salesforceExporterSelector)s}
              )
              and (time() - salesforce_last_refresh_success_timestamp_seconds{%(salesforceExporterSelector)s} > %(staleDataMinSeconds)s)
            ||| % c,
            'for': c.staleDataFor,
            labels: { severity: 'warning' },
            annotations: {
              summary: 'Salesforce data is stale.',
              description: 'Source {{ $labels.source }} of org {{ $labels.org }} last refreshed {{ $value | humanizeDuration }} ago.',
            },
          },
          {
            alert: 'SalesforceAPIUsageDataStale',
            expr: 'time() - salesforce_api_usage_data_end_timestamp_seconds{%(salesforceExporterSelector)s} > %(apiUsageStaleSeconds)s' % c,
            'for': '1h',
            labels: { severity: 'info' },
            annotations: {
              summary: 'No new ApiTotalUsage log data.',
              description: 'The newest API usage data of org {{ $labels.org }} ends {{ $value | humanizeDuration }} ago; the API surge and error-rate alerts are blind until new log files arrive.',
            },
          },
          {
            alert: 'SalesforceTokenVisibilityLimited',
            expr: 'salesforce_exporter_oauth_tokens_visibility_limited{%(salesforceExporterSelector)s} == 1' % c,
            'for': '30m',
            labels: { severity: 'warning' },
            annotations: {
              summary: 'The integration user sees only its own OAuth tokens.',
              description: 'Org {{ $labels.org }}: every OauthToken the exporter can read belongs to its own user. It lacks Customize Application, and the token metrics look like a clean org.',
            },
          },
          {
            alert: 'SalesforceExporterOverBudget',
            expr: |||
              salesforce_exporter_api_requests_24h{%(salesforceExporterSelector)s}
                > on(%(orgMatchLabels)s) salesforce_exporter_api_budget_daily_requests{%(salesforceExporterSelector)s}
            ||| % c,
            'for': c.exporterOverBudgetFor,
            labels: { severity: 'warning' },
            annotations: {
              summary: 'The exporter used more than its share of the org API allocation.',
              description: 'Org {{ $labels.org }}: the exporter made {{ $value }} API requests in 24 hours, over its api_budget_percent. It stretches its intervals; check for repeated full syncs in its logs.',
            },
          },
          {
            alert: 'SalesforceExporterConfigReloadFailed',
            expr: 'salesforce_exporter_config_last_reload_successful{%(salesforceExporterSelector)s} == 0' % c,
            'for': '5m',
            labels: { severity: 'warning' },
            annotations: {
              summary: 'The exporter could not reload its config; it runs the previous one.',
              description: '{{ $labels.instance }} rejected its new config file; its log names the file, line and key.',
            },
          },
        ]),
      },
      {
        name: 'salesforce-oauth-security',
        rules: std.map(rb, [
          {
            alert: 'SalesforceUnknownAppAuthorized',
            expr: |||
              salesforce_connected_app_oauth_tokens{%(salesforceExporterSelector)s} > 0
              and on(%(appMatchLabels)s) salesforce_connected_app_info{%(salesforceExporterSelector)s, known="false"}
            ||| % c,
            'for': c.unknownAppFor,
            labels: { severity: 'warning' },
            annotations: {
              summary: 'An app that is not on the approved inventory holds OAuth tokens.',
              description: 'Org {{ $labels.org }}: app "{{ $labels.app }}" holds {{ $value }} OAuth tokens and is not on the inventory. Approve it (add it to the inventory) or revoke its tokens.',
            },
          },
          {
            alert: 'SalesforceNewAppAuthorized',
            // max_over_time bridges an exporter restart, so the alert does not re-fire.
            expr: |||
              time() - max_over_time(salesforce_connected_app_first_authorized_timestamp_seconds{%(salesforceExporterSelector)s}[%(newAppLookback)s])
                < %(newAppWindowSeconds)s
            ||| % c,
            labels: { severity: 'warning' },
            annotations: {
              summary: 'An app was authorized for the first time.',
              description: 'Org {{ $labels.org }}: app "{{ $labels.app }}" got its first OAuth authorization {{ $value | humanizeDuration }} ago. Check that it is expected.',
            },
          },
          {
            alert: 'SalesforceAuthorizationSurge',
            // Users now against users one window ago (zero for an app unseen
            // then), only where the org was already watched a window ago, so a
            // fresh Prometheus does not see every app as a surge.
            expr: |||
              (
                salesforce_connected_app_authorized_users{%(salesforceExporterSelector)s}
                  - (
                    (salesforce_connected_app_authorized_users{%(salesforceExporterSelector)s} offset %(authSurgeWindow)s)
                    or (salesforce_connected_app_authorized_users{%(salesforceExporterSelector)s} * 0)
                  )
              ) >= %(authSurgeMinUsers)s
              and
              salesforce_connected_app_authorized_users{%(salesforceExporterSelector)s}
                >= %(authSurgeRatio)s * (
                  (salesforce_connected_app_authorized_users{%(salesforceExporterSelector)s} offset %(authSurgeWindow)s)
                  or (salesforce_connected_app_authorized_users{%(salesforceExporterSelector)s} * 0)
                )
              and on(%(orgMatchLabels)s) (salesforce_up{%(salesforceExporterSelector)s} offset %(authSurgeWindow)s)
            ||| % c,
            labels: { severity: 'critical' },
            annotations: {
              summary: 'Many users authorized an app within a short time: possible consent phishing.',
              description: 'Org {{ $labels.org }}: app "{{ $labels.app }}" gained {{ $value }} authorized users or more within %(authSurgeWindow)s. Check the app in Setup > Connected Apps OAuth Usage; if it is not expected, revoke its tokens and block it.' % c,
            },
          },
          {
            alert: 'SalesforceAPISurge',
            expr: |||
              salesforce_connected_app_api_requests{%(salesforceExporterSelector)s, window="24h"} >= %(apiSurgeMinRequests)s
              and ignoring(window)
              (
                salesforce_connected_app_api_requests{%(salesforceExporterSelector)s, window="24h"}
                  > ignoring(window) %(apiSurgeFactor)s * (
                    salesforce_connected_app_api_requests{%(salesforceExporterSelector)s, window="7d"}
                      - ignoring(window) salesforce_connected_app_api_requests{%(salesforceExporterSelector)s, window="24h"}
                  ) / on(%(orgMatchLabels)s) group_left() salesforce:api_usage_history_days{%(salesforceExporterSelector)s}
              )
              and ignoring(window)
              (
                salesforce_connected_app_api_requests{%(salesforceExporterSelector)s, window="7d"}
                  - ignoring(window) salesforce_connected_app_api_requests{%(salesforceExporterSelector)s, window="24h"}
                > 0
              )
              and on(%(orgMatchLabels)s) (salesforce:api_usage_history_days{%(salesforceExporterSelector)s} >= %(apiSurgeMinHistoryDays)s)
            ||| % c,
            'for': c.apiSurgeFor,
            labels: { severity: 'critical' },
            annotations: {
              summary: 'An app makes far more API requests than usual: possible stolen token.',
              description: 'Org {{ $labels.org }}: app "{{ $labels.app }}" made {{ $value }} API requests in 24 hours, over %(apiSurgeFactor)s times its daily average of the days before. Check what it reads; revoke its tokens if unexpected.' % c,
            },
          },
          {
            alert: 'SalesforceAPIErrorRateHigh',
            expr: |||
              salesforce:connected_app_api_error_ratio{%(salesforceExporterSelector)s, window="24h"} > %(apiErrorRatio)s
              and on(%(appMatchLabels)s) salesforce_connected_app_api_requests{%(salesforceExporterSelector)s, window="24h"} >= %(apiErrorMinRequests)s
            ||| % c,
            'for': c.apiErrorFor,
            labels: { severity: 'warning' },
            annotations: {
              summary: "Many of an app's API requests fail.",
              description: 'Org {{ $labels.org }}: {{ $value | humanizePercentage }} of app "{{ $labels.app }}"\'s API requests in 24 hours failed. A new error mix can mean a stolen token probing the org, or a broken integration.',
            },
          },
          {
            alert: 'SalesforceOAuthLoginFailureRateHigh',
            expr: |||
              salesforce:connected_app_oauth_login_failure_ratio{%(salesforceExporterSelector)s} > %(loginFailureRatio)s
              and on(%(appMatchLabels)s) sum without(result) (salesforce_connected_app_oauth_logins{%(salesforceExporterSelector)s}) >= %(loginFailureMinLogins)s
            ||| % c,
            'for': c.loginFailureFor,
            labels: { severity: 'warning' },
            annotations: {
              summary: 'Many OAuth logins to an app fail.',
              description: 'Org {{ $labels.org }}: {{ $value | humanizePercentage }} of OAuth logins through app "{{ $labels.app }}" in 24 hours failed.',
            },
          },
          {
            alert: 'SalesforceDeactivatedUserTokens',
            expr: 'salesforce_connected_app_inactive_user_oauth_tokens{%(salesforceExporterSelector)s} > 0' % c,
            'for': c.inactiveUserTokensFor,
            labels: { severity: 'warning' },
            annotations: {
              summary: 'Deactivated users still hold OAuth tokens (offboarding leak).',
              description: 'Org {{ $labels.org }}: {{ $value }} tokens of app "{{ $labels.app }}" belong to deactivated users. Revoke them: salesforce_oauth_exporter revoke --inactive-users.',
            },
          },
          {
            alert: 'SalesforceUninstalledAppTokens',
            expr: |||
              salesforce_connected_app_oauth_tokens{%(salesforceExporterSelector)s} > 0
              and on(%(appMatchLabels)s) salesforce_connected_app_info{%(salesforceExporterSelector)s, kind="connected_app", installed="false"}
            ||| % c,
            'for': c.uninstalledAppTokensFor,
            labels: { severity: 'warning' },
            annotations: {
              summary: 'An app that is not installed in the org holds OAuth tokens.',
              description: 'Org {{ $labels.org }}: app "{{ $labels.app }}" is not installed but holds {{ $value }} tokens. Install and review it, or revoke its tokens.',
            },
          },
          {
            alert: 'SalesforceStaleTokens',
            expr: 'salesforce_connected_app_stale_oauth_tokens{%(salesforceExporterSelector)s} > 0' % c,
            'for': c.staleTokensFor,
            labels: { severity: 'info' },
            annotations: {
              summary: 'OAuth tokens unused for the stale period (for the weekly review).',
              description: 'Org {{ $labels.org }}: {{ $value }} tokens of app "{{ $labels.app }}" are stale. Revoke them in the weekly review: salesforce_oauth_exporter revoke --stale.',
            },
          },
          {
            alert: 'SalesforceAbandonedApp',
            expr: |||
              salesforce_connected_app_authorized_users{%(salesforceExporterSelector)s} >= %(abandonedAppMinUsers)s
              unless on(%(appMatchLabels)s)
              (time() - salesforce_connected_app_last_used_timestamp_seconds{%(salesforceExporterSelector)s} < %(abandonedAppUnusedSeconds)s)
            ||| % c,
            'for': c.abandonedAppFor,
            labels: { severity: 'info' },
            annotations: {
              summary: 'An app with many authorized users has not been used for a week.',
              description: 'Org {{ $labels.org }}: app "{{ $labels.app }}" has {{ $value }} authorized users and no use in the last 7 days. If it is retired, revoke its tokens and uninstall it.',
            },
          },
        ]),
      },
      {
        name: 'salesforce-org-limits',
        rules: std.map(rb, [
          {
            alert: 'SalesforceAPIAllocationNearlyExhausted',
            expr: |||
              1 - salesforce_org_daily_api_requests_remaining{%(salesforceExporterSelector)s}
                / on(%(orgMatchLabels)s) (salesforce_org_daily_api_requests_limit{%(salesforceExporterSelector)s} > 0)
                > %(apiAllocationWarningUsedRatio)s
            ||| % c,
            'for': c.apiAllocationFor,
            labels: { severity: 'warning' },
            annotations: {
              summary: 'The org has used most of its daily API allocation.',
              description: 'Org {{ $labels.org }} has used {{ $value | humanizePercentage }} of DailyApiRequests in the last 24 hours. Find the heavy app on the overview dashboard.',
            },
          },
          {
            alert: 'SalesforceAPIAllocationExhausted',
            expr: |||
              1 - salesforce_org_daily_api_requests_remaining{%(salesforceExporterSelector)s}
                / on(%(orgMatchLabels)s) (salesforce_org_daily_api_requests_limit{%(salesforceExporterSelector)s} > 0)
                > %(apiAllocationCriticalUsedRatio)s
            ||| % c,
            'for': c.apiAllocationFor,
            labels: { severity: 'critical' },
            annotations: {
              summary: 'The org has (nearly) run out of its daily API allocation.',
              description: 'Org {{ $labels.org }} has used {{ $value | humanizePercentage }} of DailyApiRequests: integrations fail with REQUEST_LIMIT_EXCEEDED.',
            },
          },
        ]),
      },
    ],
  },
}
