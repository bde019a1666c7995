// Alerts on where apps' API requests and OAuth logins come from, and what
// they touch: a stolen token used at a normal volume. Every series is taken
// max without(haDropLabels) first, as in the other alerts, so one exporter
// scraped through two targets neither breaks the joins (many-to-many) nor
// doubles a sum. Its settings are in config.libsonnet with the others.
local h = import '../lib/helpers.libsonnet';

function(c)
  // Once per app however many targets reach the exporter (haDropLabels
  // aggregated away first): with two targets, a plain division on the app
  // labels matches two series on each side and fails to evaluate.
  local share = |||
    (
      max without(%(haDropLabels)s) (salesforce_connected_app_api_requests_from_new_networks{%(salesforceExporterSelector)s})
        / on(%(appMatchLabels)s) max without(%(haDropLabels)s) (salesforce_connected_app_api_requests{%(salesforceExporterSelector)s, window="24h"})
    )
  ||| % c;
  local ready = 'max without(%(haDropLabels)s) (salesforce_connected_app_api_baseline_ready{%(salesforceExporterSelector)s}) == 1' % c;
  local unusual = |||
    (
      %(share)s > %(newNetworkMinShare)s
      and on(%(appMatchLabels)s)
      %(share)s > %(newNetworkHistoryFactor)s * max_over_time(
        (%(share)s and on(%(appMatchLabels)s) %(ready)s)[%(newNetworkHistory)s:%(newNetworkHistoryStep)s] offset %(newNetworkHistoryOffset)s
      )
    )
  ||| % (c { share: share, ready: ready });
  {
    name: 'salesforce-detection',
    rules: [
      {
        alert: 'SalesforceAppRequestsFromNewNetworks',
        expr: |||
          max without(%(haDropLabels)s) (salesforce_connected_app_api_requests_from_new_networks{%(salesforceExporterSelector)s})
          and on(%(appMatchLabels)s) %(unusual)s
        ||| % (c { unusual: unusual }),
        'for': c.newNetworkFor,
        keep_firing_for: c.securityKeepFiringFor,
        labels: { severity: 'warning' },
        annotations: {
          summary: 'An app with a baseline is calling from networks it never used.',
          description: 'Org {{ $labels.org }}: {{ $value }} of app "{{ $labels.app }}"\'s API requests in the last 24h of log data came from networks first seen in that window, far more than its usual share. Its token may be used by someone else.',
        },
      },
      h.hold(c, ['api_usage'])({
        alert: 'SalesforceAppNewNetworksReadSensitiveObjects',
        expr: |||
          sum by (%(appMatchLabels)s) (max without(%(haDropLabels)s) (salesforce_connected_app_api_object_requests_from_new_networks{%(salesforceExporterSelector)s})) > 0
          and on(%(appMatchLabels)s) %(unusual)s
        ||| % (c { unusual: unusual }),
        'for': c.newNetworkFor,
        keep_firing_for: c.securityKeepFiringFor,
        labels: { severity: 'critical' },
        annotations: {
          summary: 'An app is reading sensitive objects from networks it never used.',
          description: 'Org {{ $labels.org }}: app "{{ $labels.app }}" made {{ $value }} requests to sensitive objects (User, Account, Contact...) from networks first seen in the last 24h of log data: the pattern of a stolen integration token. Revoke its tokens now.',
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
