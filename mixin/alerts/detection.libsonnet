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
    ],
  }
