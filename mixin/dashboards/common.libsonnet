// What the three dashboards share: the selectors, the variables, the links
// between them, and the tables and panels more than one of them shows. A
// function of the mixin's _config; each dashboard file takes what it uses.
local g = import '../lib/g.libsonnet';
local h = import '../lib/helpers.libsonnet';

function(c) {
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
  local runbook(alert) = g.runbookLink('Runbook: ' + alert, h.runbookURL(c, alert)),
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

  // Posture: each app's OAuth policy and blast radius (the posture source).
  local holders(perm) = 'max by (%s) (salesforce_connected_app_token_holders_with_permission{%s, permission="%s"})' % [by, appSel, perm],
  local postureTable(title, description) = g.table(title, description, [
    { expr: holders('modify_all_data'), title: 'Modify All Data holders', unit: 'none' },
    { expr: holders('view_all_data'), title: 'View All Data holders', unit: 'none' },
    { expr: holders('manage_users'), title: 'Manage Users holders', unit: 'none' },
    { expr: holders('author_apex'), title: 'Author Apex holders', unit: 'none' },
    { expr: holders('api_enabled'), title: 'API Enabled holders', unit: 'none' },
    { expr: 'max by (%s) (salesforce_connected_app_admin_approved_only{%s})' % [by, appSel], title: 'Admin approved only', unit: 'bool' },
    { expr: 'max by (%s) (salesforce_connected_app_refresh_token_policy{%s, policy="until_revoked"})' % [by, appSel], title: 'Valid until revoked', unit: 'bool' },
    { expr: 'max by (%s) (salesforce_connected_app_refresh_token_validity_max_seconds{%s})' % [by, appSel], title: 'Longest validity', unit: 's' },
    { expr: 'max by (%s) (salesforce_connected_app_tokens_beyond_policy{%s})' % [by, appSel], title: 'Tokens beyond policy', unit: 'none' },
    // The opt-in app_metadata source's: empty without it.
    { expr: 'max by (%s) (salesforce_connected_app_oauth_scope{%s, scope="full"})' % [by, appSel], title: 'Full scope', unit: 'bool' },
    { expr: 'max by (%s) (salesforce_connected_app_ip_relaxation{%s, policy=~"relax|relax_with_2fa"})' % [by, appSel], title: 'IP relaxed', unit: 'bool' },
  ], ['org', 'app', 'app_id'], sortBy='Modify All Data holders', links={ app: [appLink] }),

  local health = [
    [g.stat('Exporter healthy', 'Minimum of salesforce_up: every source of every selected org refreshed. Red when any did not.', 'none', 'min(%s)' % M('salesforce_up', sel), [[1, 'green']], base='red', mappings=[{ type: 'value', options: { '0': { text: 'NO', color: 'red', index: 0 }, '1': { text: 'yes', color: 'green', index: 1 } } }], colorMode='background'), 4, 4],
    [g.stat('Token visibility', 'Red when the integration user sees only its own OAuth tokens (no Customize Application): the token panels then look like a clean org and the security alerts are blind.', 'none', 'max(%s)' % M('salesforce_exporter_oauth_tokens_visibility_limited', sel), [[1, 'red']], mappings=[{ type: 'value', options: { '0': { text: 'full', color: 'green', index: 0 }, '1': { text: 'BLIND: sees only its own tokens', color: 'red', index: 1 } } }], colorMode='background'), 8, 4],
  ],

  sel:: sel,
  appSel:: appSel,
  oneAppSel:: oneAppSel,
  by:: by,
  M:: M,
  Moff:: Moff,
  appUID:: appUID,
  vars:: vars,
  linkTo:: linkTo,
  alerts:: alerts,
  ts:: ts,
  setupTable:: setupTable,
  reviewTable:: reviewTable,
  change:: change,
  appsWithTokens:: appsWithTokens,
  newAppsFilter:: newAppsFilter,
  unknownSelfAuthFilter:: unknownSelfAuthFilter,
  runbook:: runbook,
  appLink:: appLink,
  newNetworkRunbooks:: newNetworkRunbooks,
  iocRunbooks:: iocRunbooks,
  iocMatches:: iocMatches,
  shareRule:: shareRule,
  baselineRule:: baselineRule,
  detectionFilter:: detectionFilter,
  detectionTable:: detectionTable,
  health:: health,
  postureTable:: postureTable,
}
