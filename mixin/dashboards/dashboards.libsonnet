local g = import '../lib/g.libsonnet';

{
  grafanaDashboards+:: {
    local c = $._config,
    local cluster = if c.showMultiCluster then '%s=~"$cluster", ' % c.clusterLabel else '',
    // The configured selector is the one knob; the job and org variables
    // narrow it down. No job name is assumed.
    local sel = cluster + c.salesforceExporterSelector + ', job=~"$job", org=~"$org"',
    local appSel = sel + ', app=~"$app"',
    // The Connected app dashboard shows one app: matched exactly, so names
    // such as "(none)", "(unknown)" or "Data Loader (EU)" work.
    local oneAppSel = sel + ', app="$app"',
    local by = 'org, app, app_id',
    // One series per org and app, however many targets reach the exporter.
    local M(metric, s, extra='') = 'max without(%s) (%s{%s%s})' % [c.haDropLabels, metric, s, if extra == '' then '' else ', ' + extra],
    local Moff(metric, s, extra='') = 'max without(%s) (%s{%s%s} offset $__range)' % [c.haDropLabels, metric, s, if extra == '' then '' else ', ' + extra],

    local appUID = std.md5('salesforce-oauth-app.json'),
    local appLink = g.dataLink('Connected app: ${__data.fields.app}', '/d/%s?var-org=${__data.fields.org:percentencode}&var-app=${__data.fields.app:percentencode}&${job:queryparam}&${__url_time_range}' % appUID),

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
        g.variable('org', 'Org', 'label_values(salesforce_up{%s%s, job=~"$job"}, org)' % [cluster, c.salesforceExporterSelector]),
      ]
      + (if appVar == 'single' then [g.variable('app', 'App', 'label_values(salesforce_connected_app_info{%s}, app)' % sel, multi=false, includeAll=false)]
         else [g.variable('app', 'App', 'label_values(salesforce_connected_app_info{%s}, app)' % sel)]),

    // Every link carries the time range, job, org and app.
    local linkTo(title, file) = g.link(title, '/d/%s?${__url_time_range}&${job:queryparam}&${org:queryparam}&${app:queryparam}' % std.md5(file)),

    local alerts = [g.alertAnnotation('ALERTS{alertname=~"Salesforce.*", alertstate="firing", org=~"$org"}')],

    local ts(expr) = '(%s) * 1000' % expr,
    local labelCols = ['org', 'app', 'app_id', 'kind', 'known', 'installed', 'admin_approved', 'owner'],

    local setupTable(title, description) = g.table(title, description, [
      { expr: 'max by (%s, kind, known, installed, admin_approved, owner) (salesforce_connected_app_info{%s})' % [by, appSel], title: 'Info', unit: 'none' },
      { expr: 'max by (%s) (salesforce_connected_app_authorized_users{%s})' % [by, appSel], title: 'Users', unit: 'none' },
      { expr: 'max by (%s) (salesforce_connected_app_oauth_tokens{%s})' % [by, appSel], title: 'Tokens', unit: 'none' },
      { expr: 'max by (%s) (salesforce_connected_app_oauth_sessions{%s})' % [by, appSel], title: 'Sessions', unit: 'none' },
      { expr: 'max by (%s) (salesforce_connected_app_api_requests{%s, window="24h"})' % [by, appSel], title: 'Requests 24h', unit: 'none' },
      { expr: 'max by (%s) (salesforce_connected_app_api_requests{%s, window="7d"})' % [by, appSel], title: 'Requests 7d', unit: 'none' },
      { expr: 'max by (%s) (org_app_window:salesforce_connected_app_api_errors:ratio{%s, window="24h"})' % [by, appSel], title: 'Error % 24h', unit: 'percentunit' },
      { expr: 'max by (%s) (salesforce_connected_app_stale_oauth_tokens{%s})' % [by, appSel], title: 'Stale', unit: 'none' },
      { expr: 'max by (%s) (salesforce_connected_app_inactive_user_oauth_tokens{%s})' % [by, appSel], title: 'Leaver tokens', unit: 'none' },
      { expr: ts('max by (%s) (salesforce_connected_app_last_used_timestamp_seconds{%s})' % [by, appSel]), title: 'Last used', unit: 'dateTimeFromNow' },
      { expr: ts('max by (%s) (salesforce_connected_app_first_authorized_timestamp_seconds{%s})' % [by, appSel]), title: 'First authorized', unit: 'dateTimeAsIso' },
    ], labelCols, sortBy='Users', links={ app: [appLink] }),

    local reviewTable(title, description, filter, extra=[]) = g.table(title, description, [
      { expr: 'max by (%s, kind, known, installed, admin_approved, owner) (salesforce_connected_app_info{%s}) and on(%s) (%s)' % [by, appSel, by, filter], title: 'Info', unit: 'none' },
      { expr: 'max by (%s) (salesforce_connected_app_authorized_users{%s}) and on(%s) (%s)' % [by, appSel, by, filter], title: 'Users', unit: 'none' },
      { expr: 'max by (%s) (salesforce_connected_app_oauth_tokens{%s}) and on(%s) (%s)' % [by, appSel, by, filter], title: 'Tokens', unit: 'none' },
      { expr: 'max by (%s) (salesforce_connected_app_api_requests{%s, window="7d"}) and on(%s) (%s)' % [by, appSel, by, filter], title: 'Requests 7d', unit: 'none' },
      { expr: ts('max by (%s) (salesforce_connected_app_first_seen_timestamp_seconds{%s}) and on(%s) (%s)' % [by, appSel, by, filter]), title: 'First seen', unit: 'dateTimeAsIso' },
      { expr: ts('max by (%s) (salesforce_connected_app_first_authorized_timestamp_seconds{%s}) and on(%s) (%s)' % [by, appSel, by, filter]), title: 'First authorized', unit: 'dateTimeAsIso' },
      { expr: ts('max by (%s) (salesforce_connected_app_last_used_timestamp_seconds{%s}) and on(%s) (%s)' % [by, appSel, by, filter]), title: 'Last used', unit: 'dateTimeFromNow' },
    ], labelCols, sortBy='Users', links={ app: [appLink] }),

    // Change over the selected range: now minus the start of the range.
    local change(now, before) = '(%s or vector(0)) - (%s or vector(0))' % [now, before],
    local appsWithTokens(s) = 'count(max by (%s) (%s > 0))' % [by, s],

    local newAppsFilter = 'time() - max by (%s) (salesforce_connected_app_first_seen_timestamp_seconds{%s}) < $__range_s' % [by, appSel],
    local unknownSelfAuthFilter = 'max by (%s) (salesforce_connected_app_oauth_tokens{%s} > 0) and on(%s) max by (%s) (salesforce_connected_app_info{%s, known="false", admin_approved!="true"})' % [by, appSel, by, by, appSel],

    // Detection: where apps' requests come from and what they touch
    // (collector/detection.go). Each panel links the runbooks of the alerts
    // it explains.
    local runbook(alert) = g.runbookLink('Runbook: ' + alert, c.runbookURLPattern % std.asciiLower(alert)),
    local newNetworkRunbooks = [runbook('SalesforceAppRequestsFromNewNetworks'), runbook('SalesforceAppNewNetworksReadSensitiveObjects')],
    local iocRunbooks = [runbook('SalesforceAppRequestsFromIOCAddress'), runbook('SalesforceAppLoginFromIOCAddress')],
    // API and login IOC matches, added (either alone where the other has no series).
    local iocMatches(s) =
      local api = 'sum(%s)' % M('salesforce_connected_app_api_requests_matching_ioc', s);
      local logins = 'sum(%s)' % M('salesforce_connected_app_oauth_logins_matching_ioc', s);
      '(%s + %s) or %s or %s' % [api, logins, api, logins],
    local shareRule = 'org_app:salesforce_connected_app_api_requests_from_new_networks:ratio',
    local baselineRule = 'nothing counts as new until the exporter has watched the app for detection.min_baseline (%s days here)' % std.toString(c.detectionMinBaselineSeconds / 86400),
    // Apps with any detection finding in the 24h window.
    local detectionFilter = std.join(' or ', [
      'max by (%s) (%s{%s}) > 0' % [by, metric, appSel]
      for metric in ['salesforce_connected_app_api_requests_from_new_networks', 'salesforce_connected_app_oauth_logins_from_new_networks', 'salesforce_connected_app_api_new_objects']
    ] + [
      'sum by (%s) (%s) > 0' % [by, M(metric, appSel)]
      for metric in ['salesforce_connected_app_api_requests_matching_ioc', 'salesforce_connected_app_oauth_logins_matching_ioc']
    ]),
    local detectionTable(title, description) = g.table(title, description, [
      { expr: 'max by (%s) (salesforce_connected_app_api_requests_from_new_networks{%s}) and on(%s) (%s)' % [by, appSel, by, detectionFilter], title: 'From new networks', unit: 'none' },
      { expr: 'max by (%s) (%s{%s}) and on(%s) (%s)' % [by, shareRule, appSel, by, detectionFilter], title: 'Share of requests', unit: 'percentunit' },
      { expr: 'max by (%s) (salesforce_connected_app_oauth_logins_from_new_networks{%s}) and on(%s) (%s)' % [by, appSel, by, detectionFilter], title: 'Logins from new networks', unit: 'none' },
      { expr: 'max by (%s) (salesforce_connected_app_api_new_objects{%s}) and on(%s) (%s)' % [by, appSel, by, detectionFilter], title: 'New objects', unit: 'none' },
      { expr: 'sum by (%s) (%s) and on(%s) (%s)' % [by, M('salesforce_connected_app_api_requests_matching_ioc', appSel), by, detectionFilter], title: 'IOC requests', unit: 'none' },
      { expr: 'sum by (%s) (%s) and on(%s) (%s)' % [by, M('salesforce_connected_app_oauth_logins_matching_ioc', appSel), by, detectionFilter], title: 'IOC logins', unit: 'none' },
      { expr: 'max by (%s) (salesforce_connected_app_api_requests{%s, window="24h"}) and on(%s) (%s)' % [by, appSel, by, detectionFilter], title: 'Requests 24h', unit: 'none' },
      { expr: 'time() - max by (%s) (salesforce_connected_app_api_baseline_start_timestamp_seconds{%s}) and on(%s) (%s)' % [by, appSel, by, detectionFilter], title: 'Baseline age', unit: 's' },
    ], ['org', 'app', 'app_id'], sortBy='From new networks', links={ app: [appLink] }),

    local health = [
      [g.stat('Exporter healthy', 'Minimum of salesforce_up: every source of every selected org refreshed. Red when any did not.', 'none', 'min(%s)' % M('salesforce_up', sel), [[1, 'green']], base='red', mappings=[{ type: 'value', options: { '0': { text: 'NO', color: 'red', index: 0 }, '1': { text: 'yes', color: 'green', index: 1 } } }], colorMode='background'), 4, 4],
      [g.stat('Token visibility', 'Red when the integration user sees only its own OAuth tokens (no Customize Application): the token panels then look like a clean org and the security alerts are blind.', 'none', 'max(%s)' % M('salesforce_exporter_oauth_tokens_visibility_limited', sel), [[1, 'red']], mappings=[{ type: 'value', options: { '0': { text: 'full', color: 'green', index: 0 }, '1': { text: 'BLIND: sees only its own tokens', color: 'red', index: 1 } } }], colorMode='background'), 8, 4],
    ],

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
      [setupTable('Connected apps OAuth usage', 'Like Setup > Connected Apps OAuth Usage, with traffic and hygiene. Leaver tokens: held by deactivated users. The app name links to its dashboard.'), 24, 12],
      [g.timeseries('Top apps by API requests (24h window)', 'ApiTotalUsage events in the 24 hours before the newest log data.', 'none', [g.target('topk(10, %s)' % M('salesforce_connected_app_api_requests', appSel, 'window="24h"'), '{{org}} / {{app}} ({{app_id}})')]), 12, 9],
      [g.timeseries('Top apps by authorized users', 'Distinct users holding tokens.', 'none', [g.target('topk(10, %s)' % M('salesforce_connected_app_authorized_users', appSel), '{{org}} / {{app}} ({{app_id}})')]), 12, 9],
      [g.timeseries('Daily API allocation used', 'Share of DailyApiRequests used in the rolling 24 hours.', 'percentunit', [g.target('1 - %s / %s' % [M('salesforce_org_daily_api_requests_remaining', sel), M('salesforce_org_daily_api_requests_limit', sel)], '{{org}}')]), 12, 8],
      [g.timeseries('Exporter: sources up', 'salesforce_source_up per source; 0 means the last good data is being served.', 'bool', [g.target(M('salesforce_source_up', sel), '{{org}} {{source}}')]), 12, 8],
      [g.timeseries('Exporter: API requests per minute', 'Requests the exporter sends to Salesforce, per exporter.', 'reqpm', [g.target('sum by (instance, org, resource) (rate(salesforce_exporter_api_requests_total{%s}[$__rate_interval])) * 60' % sel, '{{org}} {{resource}} ({{instance}})')], stack=true), 12, 8],
      [g.timeseries('Exporter: data age', 'Seconds since each source last refreshed.', 's', [g.target('min without(%s) (time() - salesforce_last_refresh_success_timestamp_seconds{%s})' % [c.haDropLabels, sel], '{{org}} {{source}}')]), 12, 8],
      [g.timeseries('Exporter: failed writes of its files', "Failed writes per minute of each org's state and token files in --storage.path (a full disk, a read-only volume, a permission). Not 0 for long: the exporter serves from memory, and a restart would lose first-seen times, the usage history and the detection baseline.", 'none', [g.target('sum by (instance, org, file) (rate(salesforce_exporter_storage_write_failures_total{%s}[$__rate_interval])) * 60' % sel, '{{org}} {{file}} ({{instance}})')]), 12, 8],
    ]), vars('multi'), [linkTo('Connected app', 'salesforce-oauth-app.json'), linkTo('Security review', 'salesforce-oauth-review.json')], alerts),

    'salesforce-oauth-app.json': g.dashboard(c, 'Connected app', appUID, g.grid(health + [
      [g.stat('Authorized users', 'Distinct users holding tokens.', 'none', 'sum(%s)' % M('salesforce_connected_app_authorized_users', oneAppSel)), 4, 4],
      [g.stat('Tokens', 'Live OAuth tokens.', 'none', 'sum(%s)' % M('salesforce_connected_app_oauth_tokens', oneAppSel)), 4, 4],
      [g.stat('Apps with this name', 'Distinct app ids called this: more than one is a look-alike (SalesforceSameNameApps).', 'none', 'count(count by (org, app_id) (salesforce_connected_app_info{%s}))' % oneAppSel, [[2, 'red']]), 4, 4],
      [g.stat('Active OAuth sessions', 'Approximate: joined on the login app name.', 'none', 'sum(%s)' % M('salesforce_connected_app_oauth_sessions', oneAppSel)), 4, 4],
      [g.stat('Requests 24h', 'ApiTotalUsage events in the 24-hour window.', 'none', 'sum(%s)' % M('salesforce_connected_app_api_requests', oneAppSel, 'window="24h"')), 4, 4],
      [g.stat('Error rate 24h', 'Share of API requests with STATUS_CODE >= 400.', 'percentunit', 'max(org_app_window:salesforce_connected_app_api_errors:ratio{%s, window="24h"})' % oneAppSel, [[0.05, 'yellow'], [0.2, 'red']]), 4, 4],
      [g.stat('Last used', 'Newest LastUsedDate among the tokens.', 'dateTimeFromNow', ts('max(salesforce_connected_app_last_used_timestamp_seconds{%s})' % oneAppSel)), 4, 4],
      [g.stat('Stale tokens', 'Unused for the stale period.', 'none', 'sum(%s)' % M('salesforce_connected_app_stale_oauth_tokens', oneAppSel), [[1, 'yellow']]), 4, 4],
      [g.stat('Leaver tokens', 'Held by deactivated users.', 'none', 'sum(%s)' % M('salesforce_connected_app_inactive_user_oauth_tokens', oneAppSel), [[1, 'orange']]), 4, 4],
      [g.stat('Token uses', 'Sum of UseCount over live tokens.', 'none', 'sum(%s)' % M('salesforce_connected_app_oauth_token_uses', oneAppSel)), 4, 4],
      [g.stat('First seen', 'When the exporter first saw the app (kept across restarts).', 'dateTimeAsIso', ts('min(salesforce_connected_app_first_seen_timestamp_seconds{%s})' % oneAppSel)), 4, 4],
      [g.stat('First authorized', 'Oldest CreatedDate among live tokens.', 'dateTimeAsIso', ts('min(salesforce_connected_app_first_authorized_timestamp_seconds{%s})' % oneAppSel)), 4, 4],
      [g.stat('Share of org traffic 24h', "This app's share of the org's ApiTotalUsage events.", 'percentunit', 'sum(org_app_window:salesforce_connected_app_api_requests:org_share{%s, window="24h"})' % oneAppSel), 4, 4],
      [g.stat('OAuth logins 24h', 'LoginHistory rows of OAuth logins through the app.', 'none', 'sum(%s)' % M('salesforce_connected_app_oauth_logins', oneAppSel)), 4, 4],
      [g.timeseries('Users and tokens', 'Authorized users and live tokens over time, per app id.', 'none', [
        g.target('sum by (org, app, app_id) (%s)' % M('salesforce_connected_app_authorized_users', oneAppSel), 'users {{app_id}}'),
        g.target('sum by (org, app, app_id) (%s)' % M('salesforce_connected_app_oauth_tokens', oneAppSel), 'tokens {{app_id}}'),
      ]), 12, 8],
      [g.timeseries('API requests and errors', 'ApiTotalUsage events in each window, as the log data arrives.', 'none', [
        g.target('sum by (app_id, window) (%s)' % M('salesforce_connected_app_api_requests', oneAppSel), 'requests {{window}} {{app_id}}'),
        g.target('sum by (app_id, window) (%s)' % M('salesforce_connected_app_api_errors', oneAppSel), 'errors {{window}} {{app_id}}'),
      ]), 12, 8],
      [g.timeseries('OAuth logins (24h)', 'Successful and failed OAuth logins in the last 24 hours.', 'none', [
        g.target('sum by (app_id, result) (%s)' % M('salesforce_connected_app_oauth_logins', oneAppSel), '{{result}} {{app_id}}'),
      ]), 12, 8],
      [g.timeseries('Active OAuth sessions', 'Sessions joined by login app name (approximate).', 'none', [
        g.target('sum by (app_id) (%s)' % M('salesforce_connected_app_oauth_sessions', oneAppSel), 'sessions {{app_id}}'),
      ]), 12, 8],
      // Networks and objects (detection), over the 24h window of log data.
      [g.stat('Detection baseline age', 'How long the exporter has watched this app (kept across restarts; the youngest, if look-alikes share the name). Yellow: still learning, %s, so the new-network and new-object panels read 0 by design. Green: the baseline is in force.' % baselineRule, 's', 'time() - max(%s)' % M('salesforce_connected_app_api_baseline_start_timestamp_seconds', oneAppSel), [[c.detectionMinBaselineSeconds, 'green']], base='yellow'), 4, 4],
      [g.stat('Client networks 24h', 'Distinct client networks (IPv4 /24, IPv6 /48) of the API requests in the 24h window. An integration calls from two or three; a mobile app from many. A jump for an integration is worth a look at the panels below.', 'none', 'sum(%s)' % M('salesforce_connected_app_api_client_networks', oneAppSel)), 4, 4],
      [g.stat('Requests from new networks 24h', 'API requests in the 24h window from networks the app never used before. Not 0 for an integration: ask its owner whether it moved (new region, NAT, vendor); if not, follow the runbook.', 'none', 'sum(%s)' % M('salesforce_connected_app_api_requests_from_new_networks', oneAppSel), [[1, 'orange']]) + { links: newNetworkRunbooks }, 4, 4],
      [g.stat('Share from new networks 24h', 'Share of the 24h requests from new networks. SalesforceAppRequestsFromNewNetworks fires above %s%% and above %s times its highest share of the week before (see the panel below).' % [std.toString(c.newNetworkMinShare * 100), std.toString(c.newNetworkHistoryFactor)], 'percentunit', 'max(%s{%s})' % [shareRule, oneAppSel], [[c.newNetworkMinShare, 'orange']]) + { links: newNetworkRunbooks }, 4, 4],
      [g.stat('New objects 24h', 'Objects (ENTITY_NAME) the app touched for the first time in the 24h window. A sensitive one (User, Account, Contact...) fires SalesforceKnownAppNewSensitiveObject for an inventory app: ask its owner whether it changed.', 'none', 'sum(%s)' % M('salesforce_connected_app_api_new_objects', oneAppSel), [[1, 'yellow']]) + { links: [runbook('SalesforceKnownAppNewSensitiveObject')] }, 4, 4],
      [g.stat('IOC matches 24h', "API requests (24h window) and OAuth logins (last 24 hours) from addresses on a detection.ioc_lists list. Any: look now, and unless the address is explained (your own scanner, a shared VPN exit), revoke the app's tokens (runbook).", 'none', iocMatches(oneAppSel), [[1, 'red']]) + { links: iocRunbooks }, 4, 4],
      [g.timeseries('Client networks (24h window)', 'Distinct client networks of the API requests per app id, as each day of log data arrives. Flat for an integration; a step up with requests from new networks below is the pattern of a token used elsewhere.', 'none', [
        g.target('sum by (app_id) (%s)' % M('salesforce_connected_app_api_client_networks', oneAppSel), 'networks {{app_id}}'),
      ]), 12, 8],
      [g.timeseries('Requests and logins from new networks', 'API requests (24h window) and OAuth logins (last 24 hours) from networks the app never used; %s. Any for an integration: ask its owner, then the runbook.' % baselineRule, 'none', [
        g.target('sum by (app_id) (%s)' % M('salesforce_connected_app_api_requests_from_new_networks', oneAppSel), 'requests {{app_id}}'),
        g.target('sum by (app_id) (%s)' % M('salesforce_connected_app_oauth_logins_from_new_networks', oneAppSel), 'logins {{app_id}}'),
      ], thresholds=[[1, 'orange']]) + { links: newNetworkRunbooks }, 12, 8],
      [g.timeseries('Share from new networks, against the week before', "The share of 24h requests from new networks, and the level SalesforceAppRequestsFromNewNetworks compares it with: %s times its highest share in the %s before the last %s (recorded; empty until the rules have run that long). The dashed line is the alert's minimum share, %s%%. A roaming mobile app stays under its own level." % [std.toString(c.newNetworkHistoryFactor), c.newNetworkHistory, c.newNetworkHistoryOffset, std.toString(c.newNetworkMinShare * 100)], 'percentunit', [
        g.target('max by (app_id) (%s{%s})' % [shareRule, oneAppSel], 'share {{app_id}}'),
        g.target('%s * max by (app_id) (max_over_time(%s{%s}[%s:1h] offset %s))' % [std.toString(c.newNetworkHistoryFactor), shareRule, oneAppSel, c.newNetworkHistory, c.newNetworkHistoryOffset], 'alert level {{app_id}}'),
      ], thresholds=[[c.newNetworkMinShare, 'orange']]) + { links: newNetworkRunbooks }, 12, 8],
      [g.timeseries('Sensitive-object requests by object', 'API requests to each of detection.sensitive_objects in the 24h window: all of them, those from new networks, and those to an object the app touched for the first time (objects with none are not drawn). Requests from new networks to User, Account or Contact are the pattern of a stolen integration token: revoke now (runbook).', 'none', [
        g.target('sum by (object) (%s > 0)' % M('salesforce_connected_app_api_object_requests', oneAppSel), '{{object}}'),
        g.target('sum by (object) (%s > 0)' % M('salesforce_connected_app_api_object_requests_from_new_networks', oneAppSel), '{{object}} from new networks'),
        g.target('sum by (object) (%s > 0)' % M('salesforce_connected_app_api_new_object_requests', oneAppSel), '{{object}} first time'),
      ]) + { links: newNetworkRunbooks + [runbook('SalesforceKnownAppNewSensitiveObject')] }, 12, 8],
      [g.timeseries('New objects (24h window)', 'Objects (ENTITY_NAME, any object, not only sensitive ones) the app touched for the first time; %s. A step after a release of the integration is expected; otherwise ask its owner.' % baselineRule, 'none', [
        g.target('sum by (app_id) (%s)' % M('salesforce_connected_app_api_new_objects', oneAppSel), 'new objects {{app_id}}'),
      ], thresholds=[[1, 'yellow']]) + { links: [runbook('SalesforceKnownAppNewSensitiveObject')] }, 12, 8],
      [g.timeseries('IOC matches', 'API requests (24h window) and OAuth logins (last 24 hours) from addresses on each IOC list (label list). Any: look now; the review names the address and the users. Unless explained, revoke (runbook).', 'none', [
        g.target('sum by (list) (%s)' % M('salesforce_connected_app_api_requests_matching_ioc', oneAppSel), 'requests {{list}}'),
        g.target('sum by (list) (%s)' % M('salesforce_connected_app_oauth_logins_matching_ioc', oneAppSel), 'logins {{list}}'),
      ], thresholds=[[1, 'red']]) + { links: iocRunbooks }, 12, 8],
    ]), vars('single'), [linkTo('OAuth overview', 'salesforce-oauth-overview.json'), linkTo('Security review', 'salesforce-oauth-review.json')], alerts),

    'salesforce-oauth-review.json': g.dashboard(c, 'Security review', std.md5('salesforce-oauth-review.json'), g.grid([
      [reviewTable('New apps: first seen in the last 7 days', 'Apps the exporter first saw under 7 days ago whose oldest live token is under 7 days old.', 'time() - salesforce_connected_app_first_authorized_timestamp_seconds{%s} < 7 * 86400 and on(%s) time() - salesforce_connected_app_first_seen_timestamp_seconds{%s} < 7 * 86400' % [appSel, by, appSel]), 12, 8],
      [reviewTable('New apps: first seen in the last 30 days', 'Apps the exporter first saw under 30 days ago whose oldest live token is under 30 days old.', 'time() - salesforce_connected_app_first_authorized_timestamp_seconds{%s} < 30 * 86400 and on(%s) time() - salesforce_connected_app_first_seen_timestamp_seconds{%s} < 30 * 86400' % [appSel, by, appSel]), 12, 8],
      [reviewTable('Unknown apps', 'Apps with tokens that are not on the approved inventory. Run the review command for who authorized them.', 'salesforce_connected_app_oauth_tokens{%s} > 0 and on(%s) salesforce_connected_app_info{%s, known="false"}' % [appSel, by, appSel]), 24, 8],
      [reviewTable('Apps sharing a name (look-alikes)', 'Names held by more than one app id in an org. Pin the approved one with app_id in the inventory.', 'salesforce_connected_app_info{%s} and on(org, app) (count by (org, app) (count by (org, app, app_id) (salesforce_connected_app_info{%s})) > 1)' % [appSel, appSel]), 24, 6],
      [reviewTable('Many users, little use (maybe abandoned)', 'At least %d users and under %d requests in 7 days.' % [c.reviewHighUsers, c.reviewLowUse7d], 'salesforce_connected_app_authorized_users{%s} >= %d and on(%s) (salesforce_connected_app_api_requests{%s, window="7d"} < %d or on(%s) (salesforce_connected_app_authorized_users{%s} unless on(%s) salesforce_connected_app_api_requests{%s}))' % [appSel, c.reviewHighUsers, by, appSel, c.reviewLowUse7d, by, appSel, by, appSel]), 12, 8],
      [reviewTable('Few users, heavy use (service accounts)', 'At most %d users and over %d requests in 7 days: an integration with broad access.' % [c.reviewLowUsers, c.reviewHighUse7d], 'salesforce_connected_app_authorized_users{%s} <= %d and on(%s) salesforce_connected_app_api_requests{%s, window="7d"} > %d' % [appSel, c.reviewLowUsers, by, appSel, c.reviewHighUse7d]), 12, 8],
      [reviewTable('Apps with stale tokens', 'The apps behind SalesforceStaleTokens: tokens unused for the stale period.', 'salesforce_connected_app_stale_oauth_tokens{%s} > 0' % appSel), 12, 8],
      [reviewTable('Abandoned apps', 'The apps behind SalesforceAbandonedApp: %d or more users and no use in 7 days.' % c.abandonedAppMinUsers, 'salesforce_connected_app_authorized_users{%s} >= %d unless on(%s) (time() - salesforce_connected_app_last_used_timestamp_seconds{%s} < %d)' % [appSel, c.abandonedAppMinUsers, by, appSel, c.abandonedAppUnusedSeconds]), 12, 8],
      [g.timeseries('Leaver tokens (offboarding)', 'Tokens held by deactivated users, per app.', 'none', [g.target('%s > 0' % M('salesforce_connected_app_inactive_user_oauth_tokens', appSel), '{{org}} / {{app}} ({{app_id}})')]), 12, 8],
      [g.timeseries('Stale tokens', 'Tokens unused for the stale period, per app.', 'none', [g.target('%s > 0' % M('salesforce_connected_app_stale_oauth_tokens', appSel), '{{org}} / {{app}} ({{app_id}})')]), 12, 8],
      [reviewTable('Apps not installed, with tokens', 'Connected apps with tokens but no installation in the org.', 'salesforce_connected_app_oauth_tokens{%s} > 0 and on(%s) salesforce_connected_app_info{%s, kind="connected_app", installed="false"}' % [appSel, by, appSel]), 24, 8],
    ]), vars('multi'), [linkTo('OAuth overview', 'salesforce-oauth-overview.json'), linkTo('Connected app', 'salesforce-oauth-app.json')], alerts),
  },
}
