// Legacy authentication and bulk data: an app that starts logging in with a
// flow that sends a password (username-password, SOAP login()) or with the
// device flow, and an app that starts using a Bulk API. Both page on the
// change only: an app that has done it all along is the review's job
// (its "Integrations still on legacy authentication" section), not a page.
local h = import '../lib/helpers.libsonnet';

function(c)
  local m(metric, extra='') = h.m(c, metric, extra);
  local app = c.appMatchLabels;
  local org = c.orgMatchLabels;
  local legacy = 'flow=~"%s", window="24h"' % c.legacyFlows;
  local bulk = 'family=~"bulk|bulk2"';
  {
    name: 'salesforce-oauth-legacy',
    rules: [
      {
        alert: 'SalesforceAppStartedLegacyLogin',
        // Logins with the flow in the last 24 hours, none in the
        // legacyLoginLookback before them; only where the exporter read the
        // org's login flows a day ago (not on install day, nor when
        // LoginSubType just became readable and every flow appears at once).
        expr: |||
          %(now)s > 0
          unless on(%(app)s, flow) (
            max without(%(ha)s) (max_over_time(salesforce_connected_app_logins_by_flow{%(sel)s, %(legacy)s}[%(lookback)s] offset 1d)) > 0
          )
          and on(%(org)s) (
            max without(%(ha)s) (max_over_time(salesforce_org_login_subtype_readable{%(sel)s}[1h] offset 1d)) == 1
          )
        ||| % {
          now: m('salesforce_connected_app_logins_by_flow', legacy),
          app: app,
          org: org,
          ha: c.haDropLabels,
          sel: c.salesforceExporterSelector,
          legacy: legacy,
          lookback: c.legacyLoginLookback,
        },
        // Across an exporter restart (the series vanish until the first
        // refresh), as the security alerts do.
        keep_firing_for: c.securityKeepFiringFor,
        labels: { severity: 'warning' },
        annotations: {
          summary: 'An app started logging in with a legacy flow (username-password, SOAP login() or device flow).',
          description: 'Org {{ $labels.org }}: app "{{ $labels.app }}" logged in {{ $value }} times in the last 24 hours with the {{ $labels.flow }} flow, which it had not used in the %s before. A stolen password, or a new integration built on a flow Salesforce is retiring: check with its owner, and see the review\'s legacy authentication section for the users.' % c.legacyLoginLookback,
        },
      },
      {
        alert: 'SalesforceAppStartedBulkAPI',
        // Bulk API requests in the 24h window and none in the 6 days of the
        // 7d window before it; only where the exporter holds those 6 days of
        // usage history (not after a fresh start: free orgs keep log files a
        // day) and the files carry the API family.
        expr: |||
          %(r24)s > 0
          unless on(%(app)s, family) (
            %(r7)s - ignoring(window) %(r24)s > 0
          )
          and on(%(org)s) (%(history)s >= 6)
          and on(%(org)s) (%(readable)s == 1)
        ||| % {
          r24: m('salesforce_connected_app_api_requests_by_family', '%s, window="24h"' % bulk),
          r7: m('salesforce_connected_app_api_requests_by_family', '%s, window="7d"' % bulk),
          app: app,
          org: org,
          history: m('org:salesforce_api_usage_history_days:clamped'),
          readable: m('salesforce_api_usage_family_readable'),
        },
        // Across an exporter restart (the series vanish until the first
        // refresh), as the security alerts do.
        keep_firing_for: c.securityKeepFiringFor,
        labels: { severity: 'warning' },
        annotations: {
          summary: 'An app used a Bulk API for the first time in a week: possible bulk export.',
          description: 'Org {{ $labels.org }}: app "{{ $labels.app }}" made {{ $value }} {{ $labels.family }} requests in the 24 hours of usage data, and none in the 6 days before. The 2025 data thefts exported through Bulk API 2.0: check that the app\'s owner expects it, and what the app\'s users could read.',
        },
      },
    ],
  }
