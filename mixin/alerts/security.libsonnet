// What an attacker does with OAuth: consent phishing, look-alike apps,
// stolen tokens. Every series is taken once per org and app, however many
// targets reach the exporter (lib/helpers.libsonnet, m).
local h = import '../lib/helpers.libsonnet';

function(c)
  local m(metric, extra='') = h.m(c, metric, extra);
  local users = 'salesforce_connected_app_authorized_users';
  local app = c.appMatchLabels;
  local org = c.orgMatchLabels;

  // New: first authorized within the window (bridging an exporter restart)
  // and first seen by the exporter within the window. first_seen survives
  // restarts and does not move when `revoke --stale` removes an old app's
  // oldest tokens, which moves first_authorized forward.
  local newApp = |||
    time() - max without(%s) (max_over_time(salesforce_connected_app_first_authorized_timestamp_seconds{%s}[%s])) < %s
    and on(%s) (time() - max without(%s) (max_over_time(salesforce_connected_app_first_seen_timestamp_seconds{%s}[%s])) < %s)
  ||| % [c.haDropLabels, c.salesforceExporterSelector, c.newAppLookback, c.newAppWindowSeconds, app, c.haDropLabels, c.salesforceExporterSelector, c.newAppLookback, c.newAppWindowSeconds];

  // The authorization surge over one window. Users now against users one
  // window ago, by org and app name (an install gives the app an Id, so its
  // series is new; the name stays), or by app Id for an app renamed within
  // the window; zero for an app that had neither. Only where the org's token
  // data existed a window ago with full visibility: not after an exporter
  // restart whose first token read is slow, nor after Customize Application
  // was granted (every app appears at once).
  local surge(window, minUsers, ratio) =
    local now = m(users);
    local before = |||
      (
        %(now)s * 0 + on(%(org)s, app) group_left() sum by (%(org)s, app) (%(byName)s)
        or %(now)s * 0 + on(%(org)s, app_id) group_left() sum by (%(org)s, app_id) (%(byID)s)
        or %(now)s * 0
      )
    ||| % {
      now: now,
      org: org,
      byName: h.mOffset(c, users, window),
      byID: h.mOffset(c, users, window, 'app_id!=""'),
    };
    |||
      (%(now)s - %(before)s) >= %(minUsers)s
      and %(now)s >= %(ratio)s * %(before)s
      and on(%(org)s) (%(visibilityBefore)s == 0)
    ||| % {
      now: now,
      before: std.rstripChars(before, '\n'),
      minUsers: minUsers,
      ratio: ratio,
      org: org,
      visibilityBefore: h.mOffset(c, 'salesforce_exporter_oauth_tokens_visibility_limited', window),
    };

  local r24 = m('salesforce_connected_app_api_requests', 'window="24h"');
  local r7d = m('salesforce_connected_app_api_requests', 'window="7d"');
  local historyDays = m('org:salesforce_api_usage_history_days:clamped');

  // The critical alerts, and the sources whose first read after an
  // exporter restart they wait for (lib/helpers.libsonnet, hold).
  local holdSources = {
    SalesforceNewUnknownAppWithUsers: ['oauth_tokens', 'apps'],
    SalesforceAuthorizationSurge: ['oauth_tokens'],
    SalesforceAPISurge: ['api_usage'],
    SalesforceSameNameApps: ['apps'],
  };
  local held(rules) = [
    if std.objectHas(holdSources, r.alert) then h.hold(c, holdSources[r.alert])(r) else r
    for r in rules
  ];

  {
    name: 'salesforce-oauth-security',
    rules: held([
      {
        alert: 'SalesforceUnknownAppAuthorized',
        expr: |||
          %s > 0
          and on(%s) %s
        ||| % [m('salesforce_connected_app_oauth_tokens'), app, m('salesforce_connected_app_info', 'known="false"')],
        'for': c.unknownAppFor,
        keep_firing_for: c.securityKeepFiringFor,
        labels: { severity: 'warning' },
        annotations: {
          summary: 'An app that is not on the approved inventory holds OAuth tokens.',
          description: 'Org {{ $labels.org }}: app "{{ $labels.app }}" ({{ $labels.app_id }}) holds {{ $value }} OAuth tokens and is not on the inventory. Approve it (add it to the inventory with its app_id) or revoke its tokens.',
        },
      },
      {
        alert: 'SalesforceNewAppAuthorized',
        expr: newApp,
        keep_firing_for: c.securityKeepFiringFor,
        labels: { severity: 'warning' },
        annotations: {
          summary: 'An app was authorized for the first time.',
          description: 'Org {{ $labels.org }}: app "{{ $labels.app }}" got its first OAuth authorization {{ $value | humanizeDuration }} ago. Check that it is expected.',
        },
      },
      {
        alert: 'SalesforceNewUnknownAppWithUsers',
        // The strongest consent-phishing signal: unknown, new, and spreading.
        expr: |||
          %s >= %s
          and on(%s) %s
          and on(%s) (
            %s
          )
        ||| % [m(users), c.newUnknownAppMinUsers, app, m('salesforce_connected_app_info', 'known="false"'), app, std.rstripChars(newApp, '\n')],
        keep_firing_for: c.securityKeepFiringFor,
        labels: { severity: 'critical' },
        annotations: {
          summary: 'An app that is not on the inventory, first authorized within 24 hours, already has several users: likely consent phishing.',
          description: 'Org {{ $labels.org }}: app "{{ $labels.app }}" ({{ $labels.app_id }}) is unknown, new, and held by {{ $value }} users. Block it and revoke its tokens unless someone vouches for it now.',
        },
      },
      {
        alert: 'SalesforceAuthorizationSurge',
        expr: surge(c.authSurgeWindow, c.authSurgeMinUsers, c.authSurgeRatio),
        keep_firing_for: c.securityKeepFiringFor,
        labels: { severity: 'critical', window: c.authSurgeWindow },
        annotations: {
          summary: 'Many users authorized an app within a short time: possible consent phishing.',
          description: 'Org {{ $labels.org }}: app "{{ $labels.app }}" gained {{ $value }} authorized users or more within %(authSurgeWindow)s. Check the app in Setup > Connected Apps OAuth Usage; if it is not expected, revoke its tokens and block it.' % c,
        },
      },
      {
        // The same over a day: vishing campaigns run over days.
        alert: 'SalesforceAuthorizationSurge',
        expr: surge(c.authSurgeLongWindow, c.authSurgeLongMinUsers, c.authSurgeRatio),
        keep_firing_for: c.securityKeepFiringFor,
        labels: { severity: 'critical', window: c.authSurgeLongWindow },
        annotations: {
          summary: 'Many users authorized an app within a day: possible consent phishing.',
          description: 'Org {{ $labels.org }}: app "{{ $labels.app }}" gained {{ $value }} authorized users or more within %(authSurgeLongWindow)s. Check the app in Setup > Connected Apps OAuth Usage; if it is not expected, revoke its tokens and block it.' % c,
        },
      },
      {
        alert: 'SalesforceAPISurge',
        // Two branches: an app with earlier traffic that makes apiSurgeFactor
        // times its daily average, and an app without earlier traffic (a new
        // app's own bulk export, a dormant integration whose stolen token
        // wakes up) that makes apiSurgeNewAppMinRequests in a day. Both need
        // the org's usage history to be long enough to tell.
        expr: |||
          (
            %(r24)s >= %(apiSurgeMinRequests)s
            and ignoring(window)
            (
              %(r24)s
                > ignoring(window) %(apiSurgeFactor)s * (%(r7d)s - ignoring(window) %(r24)s)
                / on(%(org)s) group_left() %(historyDays)s
            )
            and ignoring(window) (%(r7d)s - ignoring(window) %(r24)s > 0)
            or
            %(r24)s >= %(apiSurgeNewAppMinRequests)s
            and ignoring(window) (%(r7d)s - ignoring(window) %(r24)s <= 0)
          )
          and on(%(org)s) (%(historyDays)s >= %(apiSurgeMinHistoryDays)s)
        ||| % c { r24: r24, r7d: r7d, org: org, historyDays: historyDays },
        'for': c.apiSurgeFor,
        keep_firing_for: c.securityKeepFiringFor,
        labels: { severity: 'critical' },
        annotations: {
          summary: 'An app makes far more API requests than usual: possible stolen token or bulk export.',
          description: 'Org {{ $labels.org }}: app "{{ $labels.app }}" made {{ $value }} API requests in 24 hours, over %(apiSurgeFactor)s times its daily average of the days before (or %(apiSurgeNewAppMinRequests)s with no traffic before). Check what it reads; revoke its tokens if unexpected.' % c,
        },
      },
      {
        alert: 'SalesforceSameNameApps',
        // Inventory entries without app_id match by name: a second app called
        // like an approved one counts as approved. Two apps, one name, pages.
        expr: |||
          count by (%s, app) (
            count by (%s, app, app_id) (%s)
          ) > 1
        ||| % [org, org, m('salesforce_connected_app_info', 'app!~"\\\\(none\\\\)|\\\\(unknown\\\\)"')],
        'for': c.sameNameAppsFor,
        keep_firing_for: c.securityKeepFiringFor,
        labels: { severity: 'critical' },
        annotations: {
          summary: 'Two different apps in one org share a name: a look-alike may pass as an approved app.',
          description: 'Org {{ $labels.org }}: {{ $value }} apps are called "{{ $labels.app }}". Check each app_id in Setup > App Manager; pin the approved one with app_id in the inventory and block the other.',
        },
      },
      {
        alert: 'SalesforceAPIErrorRateHigh',
        expr: |||
          org_app_window:salesforce_connected_app_api_errors:ratio{%s, window="24h"} > %s
          and on(%s) %s >= %s
        ||| % [c.salesforceExporterSelector, c.apiErrorRatio, app, r24, c.apiErrorMinRequests],
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
          org_app:salesforce_connected_app_oauth_logins:failure_ratio{%s} > %s
          and on(%s) sum without(result) (%s) >= %s
        ||| % [c.salesforceExporterSelector, c.loginFailureRatio, app, m('salesforce_connected_app_oauth_logins'), c.loginFailureMinLogins],
        'for': c.loginFailureFor,
        labels: { severity: 'warning' },
        annotations: {
          summary: 'Many OAuth logins to an app fail.',
          description: 'Org {{ $labels.org }}: {{ $value | humanizePercentage }} of OAuth logins through app "{{ $labels.app }}" in 24 hours failed.',
        },
      },
      {
        alert: 'SalesforceDeactivatedUserTokens',
        expr: '%s > 0' % m('salesforce_connected_app_inactive_user_oauth_tokens'),
        'for': c.inactiveUserTokensFor,
        keep_firing_for: c.securityKeepFiringFor,
        labels: { severity: 'warning' },
        annotations: {
          summary: 'Deactivated users still hold OAuth tokens (offboarding leak).',
          description: 'Org {{ $labels.org }}: {{ $value }} tokens of app "{{ $labels.app }}" belong to deactivated users. Revoke them: salesforce_oauth_exporter revoke --inactive-users.',
        },
      },
      {
        alert: 'SalesforceUninstalledAppTokens',
        expr: |||
          %s > 0
          and on(%s) %s
        ||| % [m('salesforce_connected_app_oauth_tokens'), app, m('salesforce_connected_app_info', 'kind="connected_app", installed="false"')],
        'for': c.uninstalledAppTokensFor,
        keep_firing_for: c.securityKeepFiringFor,
        labels: { severity: 'warning' },
        annotations: {
          summary: 'An app that is not installed in the org holds OAuth tokens.',
          description: 'Org {{ $labels.org }}: app "{{ $labels.app }}" is not installed but holds {{ $value }} tokens. Install and review it, or revoke its tokens.',
        },
      },
    ]),
  }
