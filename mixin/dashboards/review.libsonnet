// Security review: the tables for the weekly review of the OAuth surface.
local g = import '../lib/g.libsonnet';

{
  grafanaDashboards+:: {
    local c = $._config,
    local d = (import 'common.libsonnet')(c),
    local appSel = d.appSel,
    local by = d.by,
    local M = d.M,
    local vars = d.vars,
    local linkTo = d.linkTo,
    local alerts = d.alerts,
    local reviewTable = d.reviewTable,

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
