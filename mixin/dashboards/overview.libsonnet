// The OAuth overview: every org and app, what changed over the range, the
// exporter's health.
local g = import '../lib/g.libsonnet';

{
  grafanaDashboards+:: {
    local c = $._config,
    local d = (import 'common.libsonnet')(c),
    local sel = d.sel,
    local appSel = d.appSel,
    local by = d.by,
    local M = d.M,
    local Moff = d.Moff,
    local vars = d.vars,
    local linkTo = d.linkTo,
    local alerts = d.alerts,
    local setupTable = d.setupTable,
    local reviewTable = d.reviewTable,
    local change = d.change,
    local appsWithTokens = d.appsWithTokens,
    local newAppsFilter = d.newAppsFilter,
    local unknownSelfAuthFilter = d.unknownSelfAuthFilter,
    local newNetworkRunbooks = d.newNetworkRunbooks,
    local iocRunbooks = d.iocRunbooks,
    local baselineRule = d.baselineRule,
    local detectionFilter = d.detectionFilter,
    local detectionTable = d.detectionTable,
    local health = d.health,

    'salesforce-oauth-overview.json': g.dashboard(c, 'OAuth overview', std.md5('salesforce-oauth-overview.json'), g.grid(health + [
      // What changed in the OAuth surface over the selected range.
      [g.stat('Apps with tokens: change', 'Apps with live tokens now, minus at the start of the selected range.', 'none', change(appsWithTokens('salesforce_connected_app_oauth_tokens{%s}' % appSel), appsWithTokens('salesforce_connected_app_oauth_tokens{%s} offset $__range' % appSel))), 4, 4],
      [g.stat('Users: change', 'Authorized users (added over apps) now, minus at the start of the selected range.', 'none', change('sum(%s)' % M('salesforce_connected_app_authorized_users', appSel), 'sum(%s)' % Moff('salesforce_connected_app_authorized_users', appSel))), 4, 4],
      [g.stat('Tokens: change', 'Live OAuth tokens now, minus at the start of the selected range.', 'none', change('sum(%s)' % M('salesforce_connected_app_oauth_tokens', appSel), 'sum(%s)' % Moff('salesforce_connected_app_oauth_tokens', appSel))), 4, 4],
      [g.stat('New apps in range', 'Apps the exporter first saw within the selected range (first_seen survives restarts).', 'none', 'count(%s) or vector(0)' % newAppsFilter, [[1, 'orange']]), 4, 4],
      [g.stat('Unknown apps', 'Apps with tokens that are not on the approved inventory.', 'none', 'count((max by (%s) (salesforce_connected_app_oauth_tokens{%s}) > 0) and on(%s) max by (%s) (salesforce_connected_app_info{%s, known="false"})) or vector(0)' % [by, appSel, by, by, appSel], [[1, 'red']]), 4, 4],
      [g.stat('Unknown, self-authorizable', 'Unknown apps with tokens whose users may authorize themselves (not admin-approved only).', 'none', 'count(%s) or vector(0)' % unknownSelfAuthFilter, [[1, 'red']]), 4, 4],
      [g.stat('Leavers with tokens', 'Distinct deactivated users who still hold a token.', 'none', 'sum(%s)' % M('salesforce_inactive_users_with_oauth_tokens', sel), [[1, 'orange']]), 4, 4],
      [g.stat('API requests 24h', 'ApiTotalUsage events of every app, in the latest 24-hour window.', 'none', 'sum(%s)' % M('salesforce_connected_app_api_requests', appSel, 'window="24h"')), 4, 4],
      [g.stat('Apps: new networks or IOC', 'Apps whose requests or OAuth logins in the 24h window came from networks they never used, that touched objects for the first time, or that matched an IOC list. The table "Apps with traffic from new networks" lists them; %s.' % baselineRule, 'none', 'count(%s) or vector(0)' % detectionFilter, [[1, 'orange']]) + { links: newNetworkRunbooks + iocRunbooks }, 4, 4],
      [reviewTable('New apps in the selected range', 'Apps first seen by the exporter within the selected range, with whether they are known (on the inventory) and admin-approved only.', newAppsFilter), 24, 8],
      [reviewTable('Unknown, self-authorizable apps', 'Apps with tokens, not on the inventory, that users may authorize themselves: approve them, or block them (admin-approved users only) and revoke.', unknownSelfAuthFilter), 24, 7],
      [detectionTable('Apps with traffic from new networks', 'Apps with API requests or OAuth logins from networks they never used, objects touched for the first time, or IOC matches, in the latest 24h of log data; most requests from new networks first. Share of requests: of the 24h requests, from new networks (a roaming mobile app has a steady share every day; an integration 0). Baseline age: how long the exporter has watched the app; %s. An IOC match: revoke now (runbook). Requests from new networks that read User, Account or Contact: see the app dashboard, then its runbook. The app name links to its dashboard.' % baselineRule) + { links: newNetworkRunbooks + iocRunbooks }, 24, 8],
      [g.table('Legacy authentication', "Apps that logged in with the username-password flow, SOAP API login() or the device flow in the last 24 hours (LoginHistory), the most logins first: integrations to move to the JWT bearer or client credentials flow; SOAP login() is retired with Summer '27. The review's legacy authentication section names their users. The app name links to its dashboard.", [
        { expr: 'max by (%s, flow) (salesforce_connected_app_logins_by_flow{%s, flow=~"%s"})' % [by, appSel, c.legacyFlows], title: 'Logins 24h', unit: 'none' },
      ], ['org', 'app', 'app_id', 'flow'], sortBy='Logins 24h', links={ app: [d.appLink] }) + { links: [d.runbook('SalesforceAppStartedLegacyLogin')] }, 12, 8],
      [g.timeseries('Logins by flow (org, 24h)', 'OAuth logins and SOAP API login() calls of the org in the last 24 hours by flow, those of no app included. unknown: LoginSubType unreadable or empty.', 'none', [g.target('sum by (org, flow) (%s)' % M('salesforce_org_logins_by_flow', sel), '{{org}} {{flow}}')]), 12, 8],
      [setupTable('Connected apps OAuth usage', 'Like Setup > Connected Apps OAuth Usage, with traffic and hygiene. Leaver tokens: held by deactivated users. The app name links to its dashboard.'), 24, 12],
      [g.timeseries('Top apps by API requests (24h window)', 'ApiTotalUsage events in the 24 hours before the newest log data.', 'none', [g.target('topk(10, %s)' % M('salesforce_connected_app_api_requests', appSel, 'window="24h"'), '{{org}} / {{app}} ({{app_id}})')]), 12, 9],
      [g.timeseries('Top apps by authorized users', 'Distinct users holding tokens.', 'none', [g.target('topk(10, %s)' % M('salesforce_connected_app_authorized_users', appSel), '{{org}} / {{app}} ({{app_id}})')]), 12, 9],
      [g.timeseries('Daily API allocation used', 'Share of DailyApiRequests used in the rolling 24 hours.', 'percentunit', [g.target('1 - %s / %s' % [M('salesforce_org_daily_api_requests_remaining', sel), M('salesforce_org_daily_api_requests_limit', sel)], '{{org}}')]), 12, 8],
      [g.timeseries('Exporter: sources up', 'salesforce_source_up per source; 0 means the last good data is being served.', 'bool', [g.target(M('salesforce_source_up', sel), '{{org}} {{source}}')]), 12, 8],
      [g.timeseries('Exporter: API requests per minute', 'Requests the exporter sends to Salesforce, per exporter.', 'reqpm', [g.target('sum by (instance, org, resource) (rate(salesforce_exporter_api_requests_total{%s}[$__rate_interval])) * 60' % sel, '{{org}} {{resource}} ({{instance}})')], stack=true), 12, 8],
      [g.timeseries('Exporter: data age', 'Seconds since each source last refreshed.', 's', [g.target('min without(%s) (time() - salesforce_last_refresh_success_timestamp_seconds{%s})' % [c.haDropLabels, sel], '{{org}} {{source}}')]), 12, 8],
      [g.timeseries('Exporter: failed writes of its files', "Failed writes per minute of each org's state and token files in --storage.path (a full disk, a read-only volume, a permission). Not 0 for long: the exporter serves from memory, and a restart would lose first-seen times, the usage history and the detection baseline.", 'none', [g.target('sum by (instance, org, file) (rate(salesforce_exporter_storage_write_failures_total{%s}[$__rate_interval])) * 60' % sel, '{{org}} {{file}} ({{instance}})')]), 12, 8],
    ]), vars('multi'), [linkTo('Connected app', 'salesforce-oauth-app.json'), linkTo('Security review', 'salesforce-oauth-review.json')], alerts),
  },
}
