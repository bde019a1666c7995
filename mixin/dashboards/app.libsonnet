// Connected app: one app (by name) in depth, its use, its networks and
// objects.
local g = import '../lib/g.libsonnet';

{
  grafanaDashboards+:: {
    local c = $._config,
    local d = (import 'common.libsonnet')(c),
    local oneAppSel = d.oneAppSel,
    local M = d.M,
    local appUID = d.appUID,
    local vars = d.vars,
    local linkTo = d.linkTo,
    local alerts = d.alerts,
    local ts = d.ts,
    local runbook = d.runbook,
    local newNetworkRunbooks = d.newNetworkRunbooks,
    local iocRunbooks = d.iocRunbooks,
    local iocMatches = d.iocMatches,
    local baselineRule = d.baselineRule,
    local health = d.health,

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
      // Posture: what the app may do and how far its tokens reach.
      [g.stat('Permitted users', 'Admin approved only (OptionsAllowAdminApprovedUsersOnly), or all users may self-authorize.', 'none', 'min(%s)' % M('salesforce_connected_app_admin_approved_only', oneAppSel), mappings=[{ type: 'value', options: { '0': { text: 'all users', color: 'orange', index: 0 }, '1': { text: 'admin approved', color: 'green', index: 1 } } }], colorMode='background'), 4, 4],
      [g.stat('Refresh tokens valid until revoked', 'Yes when the refresh token policy sets no expiry (a stolen refresh token lasts for ever).', 'none', 'max(%s)' % M('salesforce_connected_app_refresh_token_policy', oneAppSel, 'policy="until_revoked"'), mappings=[{ type: 'value', options: { '0': { text: 'no', color: 'green', index: 0 }, '1': { text: 'yes', color: 'orange', index: 1 } } }], colorMode='background'), 4, 4],
      // Scopes and IP relaxation: only with the opt-in app_metadata source (Metadata API); empty without it.
      [g.stat('Full OAuth scope', 'Yes when the app may be granted the full scope (Metadata API ConnectedApp oauthConfig.scopes); with refresh_token too, a stolen token keeps that reach until revoked. Empty unless the opt-in app_metadata source reads the org.', 'none', 'max(%s)' % M('salesforce_connected_app_oauth_scope', oneAppSel, 'scope="full"'), mappings=[{ type: 'value', options: { '0': { text: 'no', color: 'green', index: 0 }, '1': { text: 'yes', color: 'red', index: 1 } } }], colorMode='background') + { links: [runbook('SalesforceAppGainedFullScope')] }, 4, 4],
      [g.stat('IP relaxation', 'The IP relaxation in force (oauthPolicy.ipRelaxation): enforce, relax with a second factor, or relax (its tokens work from anywhere). Empty unless the opt-in app_metadata source reads the org.', 'none', 'max(%s + ignoring(policy) 2 * %s)' % [M('salesforce_connected_app_ip_relaxation', oneAppSel, 'policy="relax_with_2fa"'), M('salesforce_connected_app_ip_relaxation', oneAppSel, 'policy="relax"')], mappings=[{ type: 'value', options: { '0': { text: 'enforce', color: 'green', index: 0 }, '1': { text: 'relax with 2FA', color: 'orange', index: 1 }, '2': { text: 'relax', color: 'red', index: 2 } } }], colorMode='background') + { links: [runbook('SalesforceAppLostIPRestrictions')] }, 4, 4],
      [g.stat('Longest token validity', 'The longest the refresh token policy lets a token live or stay idle (the period read in months: the API does not give its unit).', 's', 'max(%s)' % M('salesforce_connected_app_refresh_token_validity_max_seconds', oneAppSel)), 4, 4],
      [g.stat('Tokens beyond policy', "Tokens idle longer than the app's own idle expiry allows: they should not exist.", 'none', 'sum(%s)' % M('salesforce_connected_app_tokens_beyond_policy', oneAppSel), [[1, 'orange']]), 4, 4],
      [g.stat('Modify All Data holders', 'Users holding its tokens who have Modify All Data: a stolen token reaches every record. The review names them.', 'none', 'sum(%s)' % M('salesforce_connected_app_token_holders_with_permission', oneAppSel, 'permission="modify_all_data"'), [[1, 'red']]) + { links: [runbook('SalesforceAppAuthorizedByModifyAllDataUser')] }, 4, 4],
      [g.timeseries('Blast radius', 'Of the users holding its tokens, how many hold each permission (through a permission set assignment in force).', 'none', [
        g.target('sum by (permission) (%s)' % M('salesforce_connected_app_token_holders_with_permission', oneAppSel), '{{permission}}'),
      ]), 4, 4],
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
      [g.timeseries('Logins by flow (24h)', 'Logins in the last 24 hours by flow (LoginHistory LoginSubType; soap_login: SOAP API login() calls naming the app). username_password, soap_login and device are legacy authentication: the review lists their users, and a first use fires SalesforceAppStartedLegacyLogin. unknown: LoginSubType unreadable (salesforce_org_login_subtype_readable).', 'none', [
        g.target('sum by (app_id, flow) (%s)' % M('salesforce_connected_app_logins_by_flow', oneAppSel), '{{flow}} {{app_id}}'),
      ]) + { links: [runbook('SalesforceAppStartedLegacyLogin')] }, 12, 8],
      [g.timeseries('API requests by family (24h window)', 'ApiTotalUsage events by API family: bulk (Bulk API 1.0) and bulk2 (Bulk API 2.0, which the 2025 exports used) against rest, soap and apex_rest. A first Bulk API use fires SalesforceAppStartedBulkAPI.', 'none', [
        g.target('sum by (app_id, family) (%s)' % M('salesforce_connected_app_api_requests_by_family', oneAppSel, 'window="24h"'), '{{family}} {{app_id}}'),
      ]) + { links: [runbook('SalesforceAppStartedBulkAPI')] }, 12, 8],
      [g.stat('Bulk API share 7d', "Share of the app's ApiTotalUsage events in the 7d window through a Bulk API (1.0 or 2.0). Near 1 for a loader; a jump from 0 for an integration that reads record by record is an export worth a look.", 'percentunit', 'sum(%s) / sum(%s)' % [M('salesforce_connected_app_api_requests_by_family', oneAppSel, 'family=~"bulk|bulk2", window="7d"'), M('salesforce_connected_app_api_requests', oneAppSel, 'window="7d"')]), 4, 4],
      [g.stat('Legacy logins 24h', "Logins in the last 24 hours with the username-password flow, SOAP API login() or the device flow: integrations to move to JWT bearer or client credentials (SOAP login() is retired with Summer '27).", 'none', 'sum(%s) or vector(0)' % M('salesforce_connected_app_logins_by_flow', oneAppSel, 'flow=~"%s"' % c.legacyFlows), [[1, 'orange']]), 4, 4],
      [g.timeseries('Active OAuth sessions', 'Sessions joined by login app name (approximate).', 'none', [
        g.target('sum by (app_id) (%s)' % M('salesforce_connected_app_oauth_sessions', oneAppSel), 'sessions {{app_id}}'),
      ]), 12, 8],
      // Networks and objects (detection), over the 24h window of log data.
      [g.stat('Detection baseline age', 'How long the exporter has watched this app (kept across restarts; the youngest, if look-alikes share the name). Yellow: still learning, %s, so the new-network and new-object panels read 0 by design. Green: the baseline is in force.' % baselineRule, 's', 'time() - max(%s)' % M('salesforce_connected_app_api_baseline_start_timestamp_seconds', oneAppSel), [[c.detectionMinBaselineSeconds, 'green']], base='yellow'), 4, 4],
      [g.stat('Client networks 24h', 'Distinct client networks (IPv4 /24, IPv6 /48) of the API requests in the 24h window. An integration calls from two or three; a mobile app from many. A jump for an integration is worth a look at the panels below.', 'none', 'sum(%s)' % M('salesforce_connected_app_api_client_networks', oneAppSel)), 4, 4],
      [g.stat('Requests from new networks 24h', 'API requests in the 24h window from networks the app never used before. Not 0 for an integration: ask its owner whether it moved (new region, NAT, vendor); if not, follow the runbook.', 'none', 'sum(%s)' % M('salesforce_connected_app_api_requests_from_new_networks', oneAppSel), [[1, 'orange']]) + { links: newNetworkRunbooks }, 4, 4],
      [g.stat('Share from new networks 24h', "Share of the 24h requests from new networks, as the exporter counts it. SalesforceAppRequestsFromNewNetworks fires above %s%% (at any share with corroborating evidence) and above %s times the app's usual share (see the panel below); empty until the baseline is ready." % [std.toString(c.newNetworkMinShare * 100), std.toString(c.newNetworkHistoryFactor)], 'percentunit', 'max(%s)' % M('salesforce_connected_app_api_new_network_request_share', oneAppSel), [[c.newNetworkMinShare, 'orange']]) + { links: newNetworkRunbooks }, 4, 4],
      [g.stat('New objects 24h', 'Objects (ENTITY_NAME) the app touched for the first time in the 24h window. A sensitive one (User, Account, Contact...) fires SalesforceKnownAppNewSensitiveObject for an inventory app: ask its owner whether it changed.', 'none', 'sum(%s)' % M('salesforce_connected_app_api_new_objects', oneAppSel), [[1, 'yellow']]) + { links: [runbook('SalesforceKnownAppNewSensitiveObject')] }, 4, 4],
      [g.stat('IOC matches 24h', "API requests (24h window) and OAuth logins (last 24 hours) from addresses on a detection.ioc_lists list. Any: look now, and unless the address is explained (your own scanner, a shared VPN exit), revoke the app's tokens (runbook).", 'none', iocMatches(oneAppSel), [[1, 'red']]) + { links: iocRunbooks }, 4, 4],
      [g.timeseries('Client networks (24h window)', 'Distinct client networks of the API requests per app id, as each day of log data arrives. Flat for an integration; a step up with requests from new networks below is the pattern of a token used elsewhere.', 'none', [
        g.target('sum by (app_id) (%s)' % M('salesforce_connected_app_api_client_networks', oneAppSel), 'networks {{app_id}}'),
      ]), 12, 8],
      [g.timeseries('Requests and logins from new networks', 'API requests (24h window) and OAuth logins (last 24 hours) from networks the app never used; %s. Any for an integration: ask its owner, then the runbook.' % baselineRule, 'none', [
        g.target('sum by (app_id) (%s)' % M('salesforce_connected_app_api_requests_from_new_networks', oneAppSel), 'requests {{app_id}}'),
        g.target('sum by (app_id) (%s)' % M('salesforce_connected_app_oauth_logins_from_new_networks', oneAppSel), 'logins {{app_id}}'),
      ], thresholds=[[1, 'orange']]) + { links: newNetworkRunbooks }, 12, 8],
      [g.timeseries('Share from new networks, against its usual share', "The share of 24h requests from new networks (or networks held since a flagged day), and the level the new-network alerts compare it with: %s times the app's usual share, which the exporter keeps (its highest daily share over the days that feed its baseline). The dashed line is the minimum share of new networks alone, %s%%; with corroborating evidence there is no minimum. Both are empty until the baseline is ready. A roaming mobile app stays under its own level." % [std.toString(c.newNetworkHistoryFactor), std.toString(c.newNetworkMinShare * 100)], 'percentunit', [
        g.target('max by (app_id) (%s)' % M('salesforce_connected_app_api_new_network_request_share', oneAppSel), 'share {{app_id}}'),
        g.target('%s * max by (app_id) (%s)' % [std.toString(c.newNetworkHistoryFactor), M('salesforce_connected_app_api_new_network_usual_request_share', oneAppSel)], 'alert level {{app_id}}'),
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
      // Threat Detection (the opt-in threat_detection source): the org's, as
      // no Threat Detection event names an app.
      [g.timeseries('Threat Detection (the org, real time)', "Salesforce Threat Detection's scored events of the last 24 hours in the app's org, by type (Shield or Event Monitoring add-on; the threat_detection source): the highest score (0-100) of the events not acknowledged, and how many. No event names an app: the review's Anomalies section gives the user and address to match with this app's networks. Critical from %s for api_anomaly, session_hijacking and credential_stuffing; a warning from %s." % [std.toString(c.threatCriticalScore), std.toString(c.threatWarningScore)], 'none', [
        g.target('max by (event_type) (%s)' % M('salesforce_threat_detection_max_score', d.sel), 'highest score {{event_type}}'),
        g.target('sum by (event_type) (%s > 0)' % M('salesforce_threat_detection_events', d.sel), 'events {{event_type}}'),
      ], thresholds=[[c.threatWarningScore, 'orange'], [c.threatCriticalScore, 'red']]) + { links: [runbook('SalesforceThreatDetectionCritical'), runbook('SalesforceThreatDetectionEvent')] }, 24, 8],
    ]), vars('single'), [linkTo('OAuth overview', 'salesforce-oauth-overview.json'), linkTo('Security review', 'salesforce-oauth-review.json')], alerts),
  },
}
