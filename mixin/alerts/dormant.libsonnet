// Dormant apps. An approved app unused for months that wakes and reads
// sensitive objects pages, whatever its volume: the surge alert's floor
// for an app with no traffic before (apiSurgeNewAppMinRequests) and a
// baseline that starts with the thief both miss it. The exporter measures
// the idle time before the wake from its own baseline
// (salesforce_connected_app_idle_before_wake_seconds), so no Prometheus
// history is needed. Every series is taken max without(haDropLabels) first.
local h = import '../lib/helpers.libsonnet';

function(c)
  {
    name: 'salesforce-dormant',
    rules: [
      h.hold(c, ['api_usage'])({
        alert: 'SalesforceDormantAppWokeReadingSensitiveObjects',
        expr: |||
          max without(%(haDropLabels)s) (salesforce_connected_app_idle_before_wake_seconds{%(salesforceExporterSelector)s}) >= %(dormantAppIdleDays)s * 86400
          and on(%(appMatchLabels)s)
          sum by (%(appMatchLabels)s) (max without(%(haDropLabels)s) (salesforce_connected_app_api_object_requests{%(salesforceExporterSelector)s})) > 0
          and on(%(appMatchLabels)s) salesforce_connected_app_info{%(salesforceExporterSelector)s, known="true"}
        ||| % c,
        'for': c.dormantAppFor,
        keep_firing_for: c.securityKeepFiringFor,
        labels: { severity: 'critical' },
        annotations: {
          summary: 'An approved app unused for months woke and read sensitive objects.',
          description: 'Org {{ $labels.org }}: app "{{ $labels.app }}" had made no API request or OAuth login for {{ $value | humanizeDuration }}, and in the last 24h of log data it read sensitive objects (User, Account, Contact...). A dormant integration\'s token is a thief\'s best cover; confirm with its owner before anything else.',
        },
      }),
    ],
  }
