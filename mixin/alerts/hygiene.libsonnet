// Hygiene for the weekly review: one alert per org, not a wall of alerts per
// app. The review dashboard lists the apps.
local h = import '../lib/helpers.libsonnet';

function(c) {
  name: 'salesforce-oauth-hygiene',
  rules: [
    {
      alert: 'SalesforceStaleTokens',
      expr: 'sum by (%s) (%s) > 0' % [c.orgMatchLabels, h.m(c, 'salesforce_connected_app_stale_oauth_tokens')],
      'for': c.staleTokensFor,
      labels: { severity: 'info' },
      annotations: {
        summary: 'OAuth tokens unused for the stale period (for the weekly review).',
        description: 'Org {{ $labels.org }}: {{ $value }} tokens are stale. The Security review dashboard lists the apps; revoke them: salesforce_oauth_exporter revoke --stale.',
      },
    },
    {
      alert: 'SalesforceAbandonedApp',
      expr: |||
        count by (%s) (
          %s >= %s
          unless on(%s)
          (time() - %s < %s)
        )
      ||| % [
        c.orgMatchLabels,
        h.m(c, 'salesforce_connected_app_authorized_users'),
        c.abandonedAppMinUsers,
        c.appMatchLabels,
        h.m(c, 'salesforce_connected_app_last_used_timestamp_seconds'),
        c.abandonedAppUnusedSeconds,
      ],
      'for': c.abandonedAppFor,
      labels: { severity: 'info' },
      annotations: {
        summary: 'Apps with many authorized users have not been used for a week.',
        description: 'Org {{ $labels.org }}: {{ $value }} apps with %(abandonedAppMinUsers)s or more authorized users have had no use in the last 7 days. The Security review dashboard lists them; if retired, revoke their tokens and uninstall them.' % c,
      },
    },
  ],
}
