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
      unless on(%(app)s) (%(now)s - ignoring(window) %(highWater)s < %(minUsers)s)
    ||| % {
      now: now,
      before: std.rstripChars(before, '\n'),
      minUsers: minUsers,
      ratio: ratio,
      org: org,
      app: app,
      visibilityBefore: h.mOffset(c, 'salesforce_exporter_oauth_tokens_visibility_limited', window),
      highWater: m('salesforce_connected_app_authorized_users_max'),
    };

  // An authorization surge, critical; or, on an app that only
  // admin-approved users may use, a warning: users cannot authorize it
  // themselves, so nobody was talked into it (an admin gave a team access).
  local adminApproved = m('salesforce_connected_app_info', 'admin_approved="true"');
  local surgeRule(window, minUsers, within, admin) =
    local expr = std.rstripChars(surge(window, minUsers, c.authSurgeRatio), '\n');
    local beyond = 'gained {{ $value }} authorized users or more within %s, beyond the most it had at the end of any day of the 4 weeks before.' % window;
    {
      alert: 'SalesforceAuthorizationSurge',
      expr: '%s\n%s on(%s) %s\n' % [expr, if admin then 'and' else 'unless', app, adminApproved],
      keep_firing_for: c.securityKeepFiringFor,
      labels: { severity: if admin then 'warning' else 'critical', window: window },
      annotations: if admin then {
        summary: 'Many users authorized an app %s, but only admin-approved users may use it: most likely a rollout.' % within,
        description: 'Org {{ $labels.org }}: app "{{ $labels.app }}" %s Only admin-approved users may use it, so users cannot have been talked into authorizing it: check with its owner that giving a team access (a permission set or profile) was planned.' % beyond,
      } else {
        summary: 'Many users authorized an app %s: possible consent phishing.' % within,
        description: 'Org {{ $labels.org }}: app "{{ $labels.app }}" %s Check the app in Setup > Connected Apps OAuth Usage; if it is not expected, revoke its tokens and block it.' % beyond,
      },
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
    SalesforceLookAlikeApp: ['apps', 'oauth_tokens'],
  };
  local held(rules) = [
    if std.objectHas(holdSources, r.alert) && r.labels.severity == 'critical' then h.hold(c, holdSources[r.alert])(r) else r
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
      surgeRule(c.authSurgeWindow, c.authSurgeMinUsers, 'within a short time', false),
      surgeRule(c.authSurgeWindow, c.authSurgeMinUsers, 'within a short time', true),
      // The same over a day: vishing campaigns run over days.
      surgeRule(c.authSurgeLongWindow, c.authSurgeLongMinUsers, 'within a day', false),
      surgeRule(c.authSurgeLongWindow, c.authSurgeLongMinUsers, 'within a day', true),
      {
        alert: 'SalesforceAPISurge',
        // Two branches: an app with earlier traffic that makes apiSurgeFactor
        // times its daily average, and an app without earlier traffic (a new
        // app's own bulk export, a dormant integration whose stolen token
        // wakes up) that makes apiSurgeNewAppMinRequests in a day. Both need
        // the org's usage history to be long enough to tell, and neither
        // pages within apiSurgeHighWaterRatio times the app's busiest day of
        // the 4 weeks before (the exporter's high-water mark): a weekly full
        // sync, a team's first day back after a holiday.
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
          unless on(%(app)s) (%(r24)s <= ignoring(window) %(apiSurgeHighWaterRatio)s * %(highWater)s)
        ||| % c { r24: r24, r7d: r7d, org: org, app: app, historyDays: historyDays, highWater: m('salesforce_connected_app_api_requests_daily_max') },
        'for': c.apiSurgeFor,
        keep_firing_for: c.securityKeepFiringFor,
        labels: { severity: 'critical' },
        annotations: {
          summary: 'An app makes far more API requests than usual: possible stolen token or bulk export.',
          description: 'Org {{ $labels.org }}: app "{{ $labels.app }}" made {{ $value }} API requests in 24 hours, over %(apiSurgeFactor)s times its daily average of the days before (or %(apiSurgeNewAppMinRequests)s with no traffic before), and over %(apiSurgeHighWaterRatio)s times its busiest day of the 4 weeks before, when the exporter has one in its history. Check what it reads; revoke its tokens if unexpected.' % c,
        },
      },
      {
        alert: 'SalesforceSameNameApps',
        // Inventory entries without app_id match by name: a second app called
        // like an approved one counts as approved. Two apps, one name, pages.
        // Counted within each exporter, then the most of any: two replicas
        // that read the org minutes apart, one before an install (no app_id)
        // and one after, are one app, not two.
        expr: |||
          max by (%(org)s, app) (
            count by (%(org)s, app, %(ha)s) (
              salesforce_connected_app_info{%(sel)s, app!~"\\(none\\)|\\(unknown\\)"}
            )
          ) > 1
        ||| % { org: org, ha: c.haDropLabels, sel: c.salesforceExporterSelector },
        'for': c.sameNameAppsFor,
        keep_firing_for: c.securityKeepFiringFor,
        labels: { severity: 'critical' },
        annotations: {
          summary: 'Two different apps in one org share a name: a look-alike may pass as an approved app.',
          description: 'Org {{ $labels.org }}: {{ $value }} apps are called "{{ $labels.app }}". Check each app_id in Setup > App Manager; pin the approved one with app_id in the inventory and block the other.',
        },
      },
      {
        alert: 'SalesforceLookAlikeApp',
        // A name like a known app's, loosely (case, spaces, accents,
        // zero-width characters, Cyrillic or Greek letters), with another
        // Id: the exporter compares the names (Skeleton); an exact twin is
        // SalesforceSameNameApps.
        expr: '%s == 1' % m('salesforce_connected_app_look_alike'),
        'for': c.sameNameAppsFor,
        keep_firing_for: c.securityKeepFiringFor,
        labels: { severity: 'critical' },
        annotations: {
          summary: 'An app that is not on the inventory is named like an approved app: a look-alike.',
          description: 'Org {{ $labels.org }}: app "{{ $labels.app }}" ({{ $labels.app_id }}) is not on the inventory, and its name imitates the known "{{ $labels.of_app }}" ({{ $labels.of_app_id }}). Revoke its tokens alone, by its own Id (salesforce_oauth_exporter revoke --app-id, or --app with --not-installed when it has none), and block it.',
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
