local g = import '../lib/g.libsonnet';

{
  grafanaDashboards+:: {
    local c = $._config,
    local cluster = if c.showMultiCluster then '%s=~"$cluster", ' % c.clusterLabel else '',
    local sel = cluster + 'job=~"$job", org=~"$org"',
    local appSel = sel + ', app=~"$app"',
    local by = 'org, app, app_id',

    local vars(appVar) =
      [{
        name: 'datasource',
        label: 'Data source',
        type: 'datasource',
        query: 'prometheus',
        current: { selected: false, text: 'default', value: 'default' },
        hide: 0,
        refresh: 1,
        options: [],
      }]
      + (if c.showMultiCluster then [g.variable('cluster', 'Cluster', 'label_values(salesforce_up, %s)' % c.clusterLabel, multi=false, includeAll=false)] else [])
      + [
        g.variable('job', 'Job', 'label_values(salesforce_up{%s}, job)' % (cluster + c.salesforceExporterSelector)),
        g.variable('org', 'Org', 'label_values(salesforce_up{%sjob=~"$job"}, org)' % cluster),
      ]
      + (if appVar == 'single' then [g.variable('app', 'App', 'label_values(salesforce_connected_app_info{%s}, app)' % sel, multi=false, includeAll=false)]
         else [g.variable('app', 'App', 'label_values(salesforce_connected_app_info{%s}, app)' % sel)]),

    local linkTo(title, file) = g.link(title, '/d/%s?${__url_time_range}&${org:queryparam}&${job:queryparam}' % std.md5(file)),

    local ts(expr) = '(%s) * 1000' % expr,

    local setupTable(title, description, extraFilter='') = g.table(title, description, [
      { expr: 'max by (%s, kind, known, installed, owner) (salesforce_connected_app_info{%s}%s)' % [by, appSel, extraFilter], title: 'Info', unit: 'none' },
      { expr: 'max by (%s) (salesforce_connected_app_authorized_users{%s})' % [by, appSel], title: 'Users', unit: 'none' },
      { expr: 'max by (%s) (salesforce_connected_app_oauth_tokens{%s})' % [by, appSel], title: 'Tokens', unit: 'none' },
      { expr: 'max by (%s) (salesforce_connected_app_oauth_sessions{%s})' % [by, appSel], title: 'Sessions', unit: 'none' },
      { expr: 'max by (%s) (salesforce_connected_app_api_requests{%s, window="24h"})' % [by, appSel], title: 'Requests 24h', unit: 'none' },
      { expr: 'max by (%s) (salesforce_connected_app_api_requests{%s, window="7d"})' % [by, appSel], title: 'Requests 7d', unit: 'none' },
      { expr: 'max by (%s) (salesforce:connected_app_api_error_ratio{%s, window="24h"})' % [by, appSel], title: 'Error % 24h', unit: 'percentunit' },
      { expr: 'max by (%s) (salesforce_connected_app_stale_oauth_tokens{%s})' % [by, appSel], title: 'Stale', unit: 'none' },
      { expr: 'max by (%s) (salesforce_connected_app_inactive_user_oauth_tokens{%s})' % [by, appSel], title: 'Leaver tokens', unit: 'none' },
      { expr: ts('max by (%s) (salesforce_connected_app_last_used_timestamp_seconds{%s})' % [by, appSel]), title: 'Last used', unit: 'dateTimeFromNow' },
      { expr: ts('max by (%s) (salesforce_connected_app_first_authorized_timestamp_seconds{%s})' % [by, appSel]), title: 'First authorized', unit: 'dateTimeAsIso' },
    ], ['org', 'app', 'kind', 'known', 'installed', 'owner'], sortBy='Users'),

    local reviewTable(title, description, filter) = g.table(title, description, [
      { expr: 'max by (%s, kind, known, installed, owner) (salesforce_connected_app_info{%s}) and on(%s) (%s)' % [by, appSel, by, filter], title: 'Info', unit: 'none' },
      { expr: 'max by (%s) (salesforce_connected_app_authorized_users{%s}) and on(%s) (%s)' % [by, appSel, by, filter], title: 'Users', unit: 'none' },
      { expr: 'max by (%s) (salesforce_connected_app_oauth_tokens{%s}) and on(%s) (%s)' % [by, appSel, by, filter], title: 'Tokens', unit: 'none' },
      { expr: 'max by (%s) (salesforce_connected_app_api_requests{%s, window="7d"}) and on(%s) (%s)' % [by, appSel, by, filter], title: 'Requests 7d', unit: 'none' },
      { expr: ts('max by (%s) (salesforce_connected_app_first_authorized_timestamp_seconds{%s}) and on(%s) (%s)' % [by, appSel, by, filter]), title: 'First authorized', unit: 'dateTimeAsIso' },
      { expr: ts('max by (%s) (salesforce_connected_app_last_used_timestamp_seconds{%s}) and on(%s) (%s)' % [by, appSel, by, filter]), title: 'Last used', unit: 'dateTimeFromNow' },
    ], ['org', 'app', 'kind', 'known', 'installed', 'owner'], sortBy='Users'),

    'salesforce-oauth-overview.json': g.dashboard(c, 'OAuth overview', std.md5('salesforce-oauth-overview.json'), g.grid([
      [g.stat('Apps with tokens', 'Apps whose OAuth tokens are live.', 'none', 'count(max by (%s) (salesforce_connected_app_oauth_tokens{%s} > 0))' % [by, appSel]), 3, 4],
      [g.stat('Unknown apps', 'Apps with tokens that are not on the approved inventory.', 'none', 'count((max by (%s) (salesforce_connected_app_oauth_tokens{%s}) > 0) and on(%s) max by (%s) (salesforce_connected_app_info{%s, known="false"})) or vector(0)' % [by, appSel, by, by, appSel], [[1, 'red']]), 3, 4],
      [g.stat('Authorized users (sum over apps)', 'Distinct users per app, added over apps: a user of two apps counts twice.', 'none', 'sum(salesforce_connected_app_authorized_users{%s})' % appSel), 3, 4],
      [g.stat('OAuth tokens', 'Live OAuth tokens (approvals).', 'none', 'sum(salesforce_connected_app_oauth_tokens{%s})' % appSel), 3, 4],
      [g.stat('Leavers with tokens', 'Distinct deactivated users who still hold a token.', 'none', 'sum(salesforce_inactive_users_with_oauth_tokens{%s})' % sel, [[1, 'orange']]), 3, 4],
      [g.stat('Stale tokens', 'Tokens unused for the stale period.', 'none', 'sum(salesforce_connected_app_stale_oauth_tokens{%s})' % appSel, [[1, 'yellow']]), 3, 4],
      [g.stat('API requests 24h', 'ApiTotalUsage events of every app, in the latest 24-hour window.', 'none', 'sum(salesforce_connected_app_api_requests{%s, window="24h"})' % appSel), 3, 4],
      [g.stat('Exporter healthy', 'Minimum of salesforce_up: 1 when every source of every selected org refreshed.', 'bool', 'min(salesforce_up{%s})' % sel, [[1, 'green']]), 3, 4],
      [setupTable('Connected apps OAuth usage', 'Like Setup > Connected Apps OAuth Usage, with traffic and hygiene. Leaver tokens: held by deactivated users.'), 24, 12],
      [g.timeseries('Top apps by API requests (24h window)', 'ApiTotalUsage events in the 24 hours before the newest log data.', 'none', [g.target('topk(10, salesforce_connected_app_api_requests{%s, window="24h"})' % appSel, '{{org}} / {{app}}')]), 12, 9],
      [g.timeseries('Top apps by authorized users', 'Distinct users holding tokens.', 'none', [g.target('topk(10, salesforce_connected_app_authorized_users{%s})' % appSel, '{{org}} / {{app}}')]), 12, 9],
      [g.timeseries('Daily API allocation used', 'Share of DailyApiRequests used in the rolling 24 hours.', 'percentunit', [g.target('1 - salesforce_org_daily_api_requests_remaining{%s} / salesforce_org_daily_api_requests_limit{%s}' % [sel, sel], '{{org}}')]), 12, 8],
      [g.timeseries('Exporter: sources up', 'salesforce_source_up per source; 0 means the last good data is being served.', 'bool', [g.target('salesforce_source_up{%s}' % sel, '{{org}} {{source}}')]), 12, 8],
      [g.timeseries('Exporter: API requests per minute', 'Requests the exporter sends to Salesforce.', 'reqpm', [g.target('sum by (org, resource) (rate(salesforce_exporter_api_requests_total{%s}[5m])) * 60' % sel, '{{org}} {{resource}}')], stack=true), 12, 8],
      [g.timeseries('Exporter: data age', 'Seconds since each source last refreshed.', 's', [g.target('time() - salesforce_last_refresh_success_timestamp_seconds{%s}' % sel, '{{org}} {{source}}')]), 12, 8],
    ]), vars('multi'), [linkTo('Connected app', 'salesforce-oauth-app.json'), linkTo('Security review', 'salesforce-oauth-review.json')]),

    'salesforce-oauth-app.json': g.dashboard(c, 'Connected app', std.md5('salesforce-oauth-app.json'), g.grid([
      [g.stat('Authorized users', 'Distinct users holding tokens.', 'none', 'sum(salesforce_connected_app_authorized_users{%s})' % appSel), 4, 4],
      [g.stat('Tokens', 'Live OAuth tokens.', 'none', 'sum(salesforce_connected_app_oauth_tokens{%s})' % appSel), 4, 4],
      [g.stat('Active OAuth sessions', 'Approximate: joined on the login app name.', 'none', 'sum(salesforce_connected_app_oauth_sessions{%s})' % appSel), 4, 4],
      [g.stat('Requests 24h', 'ApiTotalUsage events in the 24-hour window.', 'none', 'sum(salesforce_connected_app_api_requests{%s, window="24h"})' % appSel), 4, 4],
      [g.stat('Error rate 24h', 'Share of API requests with STATUS_CODE >= 400.', 'percentunit', 'max(salesforce:connected_app_api_error_ratio{%s, window="24h"})' % appSel, [[0.05, 'yellow'], [0.2, 'red']]), 4, 4],
      [g.stat('Last used', 'Newest LastUsedDate among the tokens.', 'dateTimeFromNow', ts('max(salesforce_connected_app_last_used_timestamp_seconds{%s})' % appSel)), 4, 4],
      [g.stat('Stale tokens', 'Unused for the stale period.', 'none', 'sum(salesforce_connected_app_stale_oauth_tokens{%s})' % appSel, [[1, 'yellow']]), 4, 4],
      [g.stat('Leaver tokens', 'Held by deactivated users.', 'none', 'sum(salesforce_connected_app_inactive_user_oauth_tokens{%s})' % appSel, [[1, 'orange']]), 4, 4],
      [g.stat('Token uses', 'Sum of UseCount over live tokens.', 'none', 'sum(salesforce_connected_app_oauth_token_uses{%s})' % appSel), 4, 4],
      [g.stat('First authorized', 'Oldest CreatedDate among live tokens.', 'dateTimeAsIso', ts('min(salesforce_connected_app_first_authorized_timestamp_seconds{%s})' % appSel)), 4, 4],
      [g.stat('Share of org traffic 24h', "This app's share of the org's ApiTotalUsage events.", 'percentunit', 'sum(salesforce:connected_app_api_requests:org_share{%s, window="24h"})' % appSel), 4, 4],
      [g.stat('OAuth logins 24h', 'LoginHistory rows of OAuth logins through the app.', 'none', 'sum(salesforce_connected_app_oauth_logins{%s})' % appSel), 4, 4],
      [g.timeseries('Users and tokens', 'Authorized users and live tokens over time.', 'none', [
        g.target('sum by (org, app) (salesforce_connected_app_authorized_users{%s})' % appSel, 'users'),
        g.target('sum by (org, app) (salesforce_connected_app_oauth_tokens{%s})' % appSel, 'tokens'),
      ]), 12, 8],
      [g.timeseries('API requests and errors', 'ApiTotalUsage events in each window, as the log data arrives.', 'none', [
        g.target('sum by (window) (salesforce_connected_app_api_requests{%s})' % appSel, 'requests {{window}}'),
        g.target('sum by (window) (salesforce_connected_app_api_errors{%s})' % appSel, 'errors {{window}}'),
      ]), 12, 8],
      [g.timeseries('OAuth logins (24h)', 'Successful and failed OAuth logins in the last 24 hours.', 'none', [
        g.target('sum by (result) (salesforce_connected_app_oauth_logins{%s})' % appSel, '{{result}}'),
      ]), 12, 8],
      [g.timeseries('Active OAuth sessions', 'Sessions joined by login app name (approximate).', 'none', [
        g.target('sum(salesforce_connected_app_oauth_sessions{%s})' % appSel, 'sessions'),
      ]), 12, 8],
    ]), vars('single'), [linkTo('OAuth overview', 'salesforce-oauth-overview.json'), linkTo('Security review', 'salesforce-oauth-review.json')]),

    'salesforce-oauth-review.json': g.dashboard(c, 'Security review', std.md5('salesforce-oauth-review.json'), g.grid([
      [reviewTable('New apps: first authorized in the last 7 days', 'Apps whose oldest live token is under 7 days old.', 'time() - salesforce_connected_app_first_authorized_timestamp_seconds{%s} < 7 * 86400' % appSel), 12, 8],
      [reviewTable('New apps: first authorized in the last 30 days', 'Apps whose oldest live token is under 30 days old.', 'time() - salesforce_connected_app_first_authorized_timestamp_seconds{%s} < 30 * 86400' % appSel), 12, 8],
      [reviewTable('Unknown apps', 'Apps with tokens that are not on the approved inventory. Run the review command for who authorized them.', 'salesforce_connected_app_oauth_tokens{%s} > 0 and on(%s) salesforce_connected_app_info{%s, known="false"}' % [appSel, by, appSel]), 24, 8],
      [reviewTable('Many users, little use (maybe abandoned)', 'At least %d users and under %d requests in 7 days.' % [c.reviewHighUsers, c.reviewLowUse7d], 'salesforce_connected_app_authorized_users{%s} >= %d and on(%s) (salesforce_connected_app_api_requests{%s, window="7d"} < %d or on(%s) (salesforce_connected_app_authorized_users{%s} unless on(%s) salesforce_connected_app_api_requests{%s}))' % [appSel, c.reviewHighUsers, by, appSel, c.reviewLowUse7d, by, appSel, by, appSel]), 12, 8],
      [reviewTable('Few users, heavy use (service accounts)', 'At most %d users and over %d requests in 7 days: an integration with broad access.' % [c.reviewLowUsers, c.reviewHighUse7d], 'salesforce_connected_app_authorized_users{%s} <= %d and on(%s) salesforce_connected_app_api_requests{%s, window="7d"} > %d' % [appSel, c.reviewLowUsers, by, appSel, c.reviewHighUse7d]), 12, 8],
      [g.timeseries('Leaver tokens (offboarding)', 'Tokens held by deactivated users, per app.', 'none', [g.target('salesforce_connected_app_inactive_user_oauth_tokens{%s} > 0' % appSel, '{{org}} / {{app}}')]), 12, 8],
      [g.timeseries('Stale tokens', 'Tokens unused for the stale period, per app.', 'none', [g.target('salesforce_connected_app_stale_oauth_tokens{%s} > 0' % appSel, '{{org}} / {{app}}')]), 12, 8],
      [reviewTable('Apps not installed, with tokens', 'Connected apps with tokens but no installation in the org.', 'salesforce_connected_app_oauth_tokens{%s} > 0 and on(%s) salesforce_connected_app_info{%s, kind="connected_app", installed="false"}' % [appSel, by, appSel]), 24, 8],
    ]), vars('multi'), [linkTo('OAuth overview', 'salesforce-oauth-overview.json'), linkTo('Connected app', 'salesforce-oauth-app.json')]),
  },
}
