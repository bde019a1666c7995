// Alerts on where apps' API requests and OAuth logins come from, and what
// they touch: a stolen token used at a normal volume. Every series is taken
// max without(haDropLabels) first, as in the other alerts, so one exporter
// scraped through two targets neither breaks the joins (many-to-many) nor
// doubles a sum. Its settings are in config.libsonnet with the others.
local h = import '../lib/helpers.libsonnet';

function(c)
  // The exporter judges new networks itself (detect/grade.go): it keeps
  // each app's usual share of requests from new networks (its highest daily
  // share over the days that feed its baseline, flagged days left out) and
  // exports it next to today's share, with the evidence that corroborates
  // them. So a page works the day the baseline is ready, with no Prometheus
  // history, and a Prometheus data loss silences nothing. Both gauges are
  // absent until the app's baseline is ready (and, for the usual share, has
  // a day to learn from): no baseline, no page. Every series is taken max
  // without(haDropLabels) first, so one exporter scraped through two targets
  // neither breaks the joins (many-to-many) nor doubles a sum.
  local m(metric) = 'max without(%(haDropLabels)s) (%(metric)s{%(salesforceExporterSelector)s})' % (c { metric: metric });
  // Today's share over newNetworkHistoryFactor times the usual share: any
  // share for an app that always calls from the same networks (usual 0); a
  // roaming mobile app's high usual share keeps its ordinary days quiet.
  local unusual = |||
    (
      %(share)s
        > on(%(appMatchLabels)s) %(newNetworkHistoryFactor)s * %(usual)s
    )
  ||| % (c { share: m('salesforce_connected_app_api_new_network_request_share'), usual: m('salesforce_connected_app_api_new_network_usual_request_share') });
  // Corroboration, judged by the exporter: objects the app never read, a
  // sensitive-object share above the app's own usual mix, an IOC match, a
  // surge.
  local corroborated = |||
    max by (%(appMatchLabels)s) (%(evidence)s) == 1
  ||| % (c { evidence: m('salesforce_connected_app_api_new_network_evidence') });
  // OAuth logins from new networks, read at every refresh of the logins
  // source: a replayed token's login pages in minutes. Apps that declare
  // their networks are left to SalesforceAppTrafficOutsideDeclaredNetworks
  // (a login inside the declared networks is a planned move).
  local loginsNew = |||
    (
      %(fromNew)s > 0
      unless on(%(appMatchLabels)s) %(declared)s > 0
    )
  ||| % (c { fromNew: m('salesforce_connected_app_oauth_logins_from_new_networks'), declared: m('salesforce_connected_app_declared_networks') });
  // Corroboration of a login from a new network: a login from an IOC
  // address, a dormant app waking, or the app's API requests from new
  // networks with evidence the exporter judged.
  local loginCorroborated = |||
    (
      sum by (%(appMatchLabels)s) (%(ioc)s) > 0
      or on(%(appMatchLabels)s) %(idle)s >= %(dormantAppIdleDays)s * 86400
      or on(%(appMatchLabels)s) (%(unusual)s and on(%(appMatchLabels)s) %(corroborated)s)
    )
  ||| % (c { ioc: m('salesforce_connected_app_oauth_logins_matching_ioc'), idle: m('salesforce_connected_app_idle_before_wake_seconds'), unusual: std.rstripChars(unusual, '\n'), corroborated: std.rstripChars(corroborated, '\n') });
  // The share of the app's login users who logged in from new networks,
  // over newNetworkHistoryFactor times its usual share of API requests from
  // new networks: a roaming mobile app, whose users call from new networks
  // every day, has a high usual share and stays quiet; an integration's is
  // 0. An app with no API data (no Event Monitoring) is judged against 0;
  // one with API data but no usual share yet is not judged (no baseline,
  // no page, as for the API alerts).
  local loginUsersUnusual = |||
    (
      %(usersNew)s
        / on(%(appMatchLabels)s) %(users)s
    ) > on(%(appMatchLabels)s) %(newNetworkHistoryFactor)s * (
      %(usual)s
        or on(%(appMatchLabels)s) (0 * %(users)s unless on(%(appMatchLabels)s) %(api)s)
    )
  ||| % (c { usersNew: m('salesforce_connected_app_oauth_login_users_from_new_networks'), users: m('salesforce_connected_app_oauth_login_users'), usual: m('salesforce_connected_app_api_new_network_usual_request_share'), api: h.m(c, 'salesforce_connected_app_api_requests', 'window="24h"') });
  {
    name: 'salesforce-detection',
    rules: [
      {
        // New networks alone (the app's usual objects at its usual volume)
        // are as often a planned NAT or cloud move as an attack: a warning,
        // at newNetworkMinShare or more of the day's requests; with evidence
        // but no sensitive object read, at any share.
        alert: 'SalesforceAppRequestsFromNewNetworks',
        expr: |||
          %(unusual)s
          and on(%(appMatchLabels)s) (
            %(share)s > %(newNetworkMinShare)s
            or on(%(appMatchLabels)s) %(corroborated)s
          )
        ||| % (c { unusual: unusual, corroborated: corroborated, share: m('salesforce_connected_app_api_new_network_request_share') }),
        'for': c.newNetworkFor,
        keep_firing_for: c.securityKeepFiringFor,
        labels: { severity: 'warning' },
        annotations: {
          summary: 'An app with a baseline is calling from networks it never used.',
          description: 'Org {{ $labels.org }}: {{ $value | humanizePercentage }} of app "{{ $labels.app }}"\'s API requests in the last 24h of log data came from networks it never used, over twice its usual share (salesforce_connected_app_api_new_network_usual_request_share). A planned move (new NAT, region or vendor egress) moves the app\'s whole volume, reading its usual objects, from networks its owner can name; a replay is a part of its volume, from networks nobody can name, by users or at hours it never had. Ask the owner, and read `review` for the networks, users and objects before revoking.',
        },
      },
      h.hold(c, ['api_usage'])({
        // Corroborated: new networks that read sensitive objects with
        // evidence the exporter judged. No volume floor: the 2025 campaign
        // was a fraction of a percent of the stolen apps' volume.
        alert: 'SalesforceAppNewNetworksReadSensitiveObjects',
        expr: |||
          sum by (%(appMatchLabels)s) (%(fromNew)s) > 0
          and on(%(appMatchLabels)s) %(unusual)s
          and on(%(appMatchLabels)s) %(corroborated)s
        ||| % (c { unusual: unusual, corroborated: corroborated, fromNew: m('salesforce_connected_app_api_object_requests_from_new_networks') }),
        'for': c.newNetworkFor,
        keep_firing_for: c.securityKeepFiringFor,
        labels: { severity: 'critical' },
        annotations: {
          summary: 'An app is reading sensitive objects from networks it never used, with corroborating evidence.',
          description: 'Org {{ $labels.org }}: app "{{ $labels.app }}" made {{ $value }} requests to sensitive objects (User, Account, Contact...) from networks it never used in the last 24h of log data, over twice its usual share, and the exporter found corroboration (salesforce_connected_app_api_new_network_evidence: objects it never read, a sensitive-object share above its usual mix, an IOC match or a surge): the pattern of a stolen integration token. Revoke its tokens now.',
        },
      }),
      {
        alert: 'SalesforceKnownAppNewSensitiveObject',
        expr: |||
          max without(%(haDropLabels)s) (salesforce_connected_app_api_new_object_requests{%(salesforceExporterSelector)s}) > 0
          and on(%(appMatchLabels)s) salesforce_connected_app_info{%(salesforceExporterSelector)s, known="true"}
        ||| % c,
        'for': c.newSensitiveObjectFor,
        keep_firing_for: c.securityKeepFiringFor,
        labels: { severity: 'warning' },
        annotations: {
          summary: 'A known app read a sensitive object it never read before.',
          description: 'Org {{ $labels.org }}: app "{{ $labels.app }}" made {{ $value }} requests to {{ $labels.object }}, an object it had not touched since the exporter has watched it.',
        },
      },
      h.hold(c, ['api_usage'])({
        alert: 'SalesforceAppRequestsFromIOCAddress',
        expr: 'max without(%(haDropLabels)s) (salesforce_connected_app_api_requests_matching_ioc{%(salesforceExporterSelector)s}) > 0' % c,
        'for': c.iocFor,
        keep_firing_for: c.securityKeepFiringFor,
        labels: { severity: 'critical' },
        annotations: {
          summary: 'API requests came from an address on an IOC list.',
          description: 'Org {{ $labels.org }}: app "{{ $labels.app }}" made {{ $value }} API requests in the last 24h of log data from addresses on IOC list {{ $labels.list }}.',
        },
      }),
      h.hold(c, ['logins'])({
        alert: 'SalesforceAppLoginFromIOCAddress',
        expr: 'max without(%(haDropLabels)s) (salesforce_connected_app_oauth_logins_matching_ioc{%(salesforceExporterSelector)s}) > 0' % c,
        'for': c.iocFor,
        keep_firing_for: c.securityKeepFiringFor,
        labels: { severity: 'critical' },
        annotations: {
          summary: 'An OAuth login came from an address on an IOC list.',
          description: 'Org {{ $labels.org }}: {{ $value }} OAuth logins to app "{{ $labels.app }}" in the last 24 hours came from addresses on IOC list {{ $labels.list }}.',
        },
      }),
      {
        // Uncorroborated: a move or a replay, which the owner can tell.
        // One user of many (a traveller) is quiet.
        alert: 'SalesforceAppLoginsFromNewNetworks',
        expr: |||
          %(loginsNew)s
          and on(%(appMatchLabels)s) (
            %(usersNew)s
              / on(%(appMatchLabels)s) %(users)s
          ) >= %(loginNewNetworkUserShare)s
          and on(%(appMatchLabels)s) %(loginUsersUnusual)s
        ||| % (c { loginsNew: std.rstripChars(loginsNew, '\n'), usersNew: m('salesforce_connected_app_oauth_login_users_from_new_networks'), users: m('salesforce_connected_app_oauth_login_users'), loginUsersUnusual: std.rstripChars(loginUsersUnusual, '\n') }),
        'for': c.loginNewNetworkFor,
        keep_firing_for: c.securityKeepFiringFor,
        labels: { severity: 'warning' },
        annotations: {
          summary: "Most of an app's OAuth login users logged in from networks it never used.",
          description: 'Org {{ $labels.org }}: {{ $value }} OAuth logins to app "{{ $labels.app }}" in the last 24 hours came from networks it never used, by at least %(share)s of the users who logged in to it, with no corroboration. A planned move (new NAT, region or vendor egress) moves all the app\'s logins to networks its owner can name, and the old networks fall silent; a replay adds logins from networks nobody can name while the old ones carry on. Ask the owner, read `review` for the networks and users, and declare the new networks in the inventory if the move is planned.' % { share: std.toString(c.loginNewNetworkUserShare * 100) + '%' },
        },
      },
      h.hold(c, ['logins'])({
        alert: 'SalesforceAppLoginsFromNewNetworksCorroborated',
        expr: |||
          %(loginsNew)s
          and on(%(appMatchLabels)s) %(loginCorroborated)s
        ||| % (c { loginsNew: std.rstripChars(loginsNew, '\n'), loginCorroborated: std.rstripChars(loginCorroborated, '\n') }),
        'for': c.loginNewNetworkFor,
        keep_firing_for: c.securityKeepFiringFor,
        labels: { severity: 'critical' },
        annotations: {
          summary: "An app's OAuth logins came from networks it never used, with corroborating evidence.",
          description: 'Org {{ $labels.org }}: {{ $value }} OAuth logins to app "{{ $labels.app }}" in the last 24 hours came from networks it never used, and the exporter found corroboration: a login from an IOC address, the app waking after %(dormantAppIdleDays)s days unused, or its API requests from new networks with evidence (salesforce_connected_app_api_new_network_evidence). The pattern of a replayed token. Read `review` for the networks and users, confirm with the owner that nothing moved, then revoke.' % c,
        },
      }),
    ],
  }
