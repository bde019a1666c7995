// Every log day is judged. The detection alerts read the exporter's 24-hour
// window, which ends at the newest log period read: a Daily file that lands
// after the next day's, or two days caught up at once, is never in it, and
// an attack in it would show 0. The exporter also judges each period once,
// as its file is read, into counters that only grow
// (salesforce_connected_app_api_*_judged_total). This alert reads what they
// gained in the last lateDayWindow: their share of requests from new
// networks over newNetworkMinShare and over newNetworkHistoryFactor times
// the app's usual share, which the exporter keeps
// (salesforce_connected_app_api_new_network_usual_request_share, absent
// until the baseline is ready: no Prometheus history is needed), unless the window figures
// showed the app's sensitive reads from new networks at any time in that
// lateDayWindow: the window alerts judged those, and a day read
// just before the next one (two files within lateDayWindow) is not paged
// twice.

function(c)
  local judged(m) = 'max without(%s) (increase(%s{%s}[%s]))' % [c.haDropLabels, m, c.salesforceExporterSelector, c.lateDayWindow];
  local share = |||
    (
      %(new)s
        / on(%(appMatchLabels)s) %(all)s
    )
  ||| % (c {
           new: judged('salesforce_connected_app_api_new_network_requests_judged_total'),
           all: judged('salesforce_connected_app_api_requests_judged_total'),
         });
  {
    name: 'salesforce-judged-days',
    rules: [
      {
        alert: 'SalesforceAppLateDayNewNetworksReadSensitiveObjects',
        expr: |||
          %(sens)s > 0
          and on(%(appMatchLabels)s) %(share)s > %(newNetworkMinShare)s
          and on(%(appMatchLabels)s) %(share)s > on(%(appMatchLabels)s) %(newNetworkHistoryFactor)s * %(usual)s
          unless on(%(appMatchLabels)s)
          sum by (%(appMatchLabels)s) (max without(%(haDropLabels)s) (max_over_time(salesforce_connected_app_api_object_requests_from_new_networks{%(salesforceExporterSelector)s}[%(lateDayWindow)s]))) > 0
        ||| % (c {
                 sens: judged('salesforce_connected_app_api_sensitive_object_requests_from_new_networks_judged_total'),
                 share: std.rstripChars(share, '\n'),
                 usual: 'max without(%(haDropLabels)s) (salesforce_connected_app_api_new_network_usual_request_share{%(salesforceExporterSelector)s})' % c,
               }),
        'for': c.lateDayFor,
        keep_firing_for: c.lateDayKeepFiringFor,
        labels: { severity: 'critical' },
        annotations: {
          summary: 'A late or caught-up log day shows an app reading sensitive objects from networks it never used.',
          description: 'Org {{ $labels.org }}: ApiTotalUsage files read in the last %(lateDayWindow)s hold {{ $value }} requests of app "{{ $labels.app }}" to sensitive objects from networks new on their day, a day the 24-hour figures no longer show (it landed late, or with the next one). The pattern of a stolen integration token.' % c,
        },
      },
    ],
  }
