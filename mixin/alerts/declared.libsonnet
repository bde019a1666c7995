// Alerts on the inventory's declared expectations: traffic from outside the
// networks an app's inventory entry declares (inventory networks:), and
// objects it does not declare (inventory objects:). They need no baseline:
// an app that declares its egress ranges pages on the first request from
// elsewhere, which is how the replay of a stolen integration token was
// caught in November 2025. A planned move is one inventory change and a
// reload: the exporter judges the data it holds again at once. Every series
// is taken max without(haDropLabels) first, as in the other alerts.
local h = import '../lib/helpers.libsonnet';

function(c)
  local outside = |||
    (
      max without(%(haDropLabels)s) (salesforce_connected_app_api_requests_outside_declared_networks{%(salesforceExporterSelector)s})
        + on(%(appMatchLabels)s)
      max without(%(haDropLabels)s) (salesforce_connected_app_oauth_logins_outside_declared_networks{%(salesforceExporterSelector)s})
    )
  ||| % c;
  local undeclared = 'max without(%(haDropLabels)s) (salesforce_connected_app_api_undeclared_objects{%(salesforceExporterSelector)s}) > 0' % c;
  local newNetworks = |||
    (
      %(outside)s > 0
      or
      max without(%(haDropLabels)s) (salesforce_connected_app_api_requests_from_new_networks{%(salesforceExporterSelector)s}) > 0
    )
  ||| % (c { outside: outside });
  {
    name: 'salesforce-declared',
    rules: [
      h.hold(c, ['api_usage', 'logins'])({
        alert: 'SalesforceAppTrafficOutsideDeclaredNetworks',
        expr: '%s > 0' % std.rstripChars(outside, '\n'),
        'for': c.declaredNetworksFor,
        keep_firing_for: c.securityKeepFiringFor,
        labels: { severity: 'critical' },
        annotations: {
          summary: 'An app is called from outside the networks its inventory entry declares.',
          description: 'Org {{ $labels.org }}: {{ $value }} API requests (last 24h of log data) and OAuth logins (last 24 hours) of app "{{ $labels.app }}" came from addresses outside the networks its inventory entry declares. Unless the app moved (then declare its new networks and reload), its token is used by someone else.',
        },
      }),
      {
        alert: 'SalesforceAppUndeclaredObjects',
        expr: |||
          %(undeclared)s
          unless on(%(appMatchLabels)s) %(newNetworks)s
        ||| % (c { undeclared: undeclared, newNetworks: newNetworks }),
        'for': c.declaredObjectsFor,
        keep_firing_for: c.securityKeepFiringFor,
        labels: { severity: 'warning' },
        annotations: {
          summary: 'An app touched objects its inventory entry does not declare.',
          description: 'Org {{ $labels.org }}: app "{{ $labels.app }}" touched {{ $value }} objects in the last 24h of log data that its inventory entry does not declare, from its usual networks.',
        },
      },
      h.hold(c, ['api_usage'])({
        alert: 'SalesforceAppUndeclaredObjectsFromNewNetworks',
        expr: |||
          %(undeclared)s
          and on(%(appMatchLabels)s) %(newNetworks)s
        ||| % (c { undeclared: undeclared, newNetworks: newNetworks }),
        'for': c.declaredObjectsFor,
        keep_firing_for: c.securityKeepFiringFor,
        labels: { severity: 'critical' },
        annotations: {
          summary: 'An app touched objects it does not declare, while called from new or undeclared networks.',
          description: 'Org {{ $labels.org }}: app "{{ $labels.app }}" touched {{ $value }} objects in the last 24h of log data that its inventory entry does not declare, and in the same window it was called from networks it never used or outside its declared ones: the pattern of a stolen token exporting data.',
        },
      }),
    ],
  }
