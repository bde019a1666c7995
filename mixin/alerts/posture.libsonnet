// Posture changes. They page only on a change the exporter found against
// the last read it held (salesforce_connected_app_posture_change_timestamp_seconds,
// salesforce_org_permission_holders_increase_timestamp_seconds), never on a
// steady state: a risky policy found at install is the review's job. The
// exporter keeps its last read in the state file, so a restart is not a
// change, and a new replica's first read is its baseline; an HA pair's two
// stamps are one series after max without(haDropLabels). A policy edited
// back and forth within the window still pages: the app was open while it
// lasted, and its tokens may have been granted then.
function(c)
  local changed(change) = |||
    time() - max without(%(haDropLabels)s) (salesforce_connected_app_posture_change_timestamp_seconds{%(salesforceExporterSelector)s, change="%(change)s"}) < %(postureChangeWindowSeconds)s
  ||| % (c { change: change });
  {
    name: 'salesforce-posture',
    rules: [
      {
        alert: 'SalesforceAppOpenedToAllUsers',
        expr: changed('opened_to_all_users'),
        keep_firing_for: c.securityKeepFiringFor,
        labels: { severity: 'critical' },
        annotations: {
          summary: 'An admin-approved connected app became open to all users.',
          description: 'Org {{ $labels.org }}: app "{{ $labels.app }}" let only admin-approved users in; the exporter\'s last read found "All users may self-authorize" ({{ $value | humanizeDuration }} ago). Any user can now grant it a token.',
        },
      },
      {
        alert: 'SalesforceAppRefreshTokensValidUntilRevoked',
        expr: changed('valid_until_revoked'),
        keep_firing_for: c.securityKeepFiringFor,
        labels: { severity: 'warning' },
        annotations: {
          summary: "A connected app's refresh tokens no longer expire.",
          description: 'Org {{ $labels.org }}: app "{{ $labels.app }}" had a refresh token expiry; the exporter\'s last read found "valid until revoked" ({{ $value | humanizeDuration }} ago). A stolen refresh token of it now lasts for ever.',
        },
      },
      {
        alert: 'SalesforceAppAuthorizedByModifyAllDataUser',
        expr: changed('first_modify_all_data'),
        keep_firing_for: c.securityKeepFiringFor,
        labels: { severity: 'critical' },
        annotations: {
          summary: 'A user with Modify All Data authorized a connected app for the first time.',
          description: 'Org {{ $labels.org }}: app "{{ $labels.app }}" now holds a token of a user with Modify All Data, which it never did before ({{ $value | humanizeDuration }} ago). A stolen token of it reaches every record.',
        },
      },
      // The two below need the opt-in app_metadata source (the Metadata
      // API's ConnectedApp): without it no stamp exists and they stay quiet.
      {
        alert: 'SalesforceAppGainedFullScope',
        expr: changed('gained_full_scope'),
        keep_firing_for: c.securityKeepFiringFor,
        labels: { severity: 'critical' },
        annotations: {
          summary: 'A connected app may now be granted the full OAuth scope.',
          description: 'Org {{ $labels.org }}: app "{{ $labels.app }}" was not allowed the full scope at the exporter\'s last read before this one ({{ $value | humanizeDuration }} ago). A token of it now reaches everything its user can; with the refresh_token scope too (salesforce_connected_app_oauth_scope), until revoked.',
        },
      },
      {
        alert: 'SalesforceAppLostIPRestrictions',
        expr: changed('lost_ip_restrictions'),
        keep_firing_for: c.securityKeepFiringFor,
        labels: { severity: 'critical' },
        annotations: {
          summary: "A connected app's IP restrictions were relaxed.",
          description: 'Org {{ $labels.org }}: app "{{ $labels.app }}" now relaxes IP restrictions more than at the exporter\'s last read before this one ({{ $value | humanizeDuration }} ago; salesforce_connected_app_ip_relaxation has the policy in force). Its tokens now work from outside the trusted IP ranges.',
        },
      },
      {
        alert: 'SalesforceBypassPermissionGranted',
        expr: |||
          time() - max without(%(haDropLabels)s) (salesforce_org_permission_holders_increase_timestamp_seconds{%(salesforceExporterSelector)s}) < %(postureChangeWindowSeconds)s
        ||| % c,
        keep_firing_for: c.securityKeepFiringFor,
        labels: { severity: 'critical' },
        annotations: {
          summary: 'More users hold a permission that bypasses API client control.',
          description: "Org {{ $labels.org }}: the exporter's last read found more users holding {{ $labels.permission }} than the read before ({{ $value | humanizeDuration }} ago). They may use any API client, whatever the org allows.",
        },
      },
    ],
  }
