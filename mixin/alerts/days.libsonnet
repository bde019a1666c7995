// Every log day is judged. The detection alerts read the exporter's 24-hour
// window, which ends at the newest log period read: a Daily file that lands
// after the next day's, or two days caught up at once, is never in it, and
// an attack in it would show 0. The exporter also judges each period once,
// as its file is read, into counters that only grow
// (salesforce_connected_app_api_*_judged_total). These alerts read what they
// gained in the last lateDayWindow, graded as the window alerts are
// (alerts/detection.libsonnet):
//   - critical: sensitive reads from new networks that the exporter found
//     corroborated as it judged the period (objects the app never read, a
//     sensitive share above its usual mix, an IOC match, a surge, or
//     addresses outside its declared networks:
//     salesforce_connected_app_api_corroborated_sensitive_requests_from_new_networks_judged_total),
//     with no volume floor: the 2025 replays were a fraction of a percent;
//   - warning: requests from new networks alone, at newNetworkMinShare or
//     more of the late day's requests (the floor the window warning has: a
//     planned move is the usual objects at the usual volume).
// Both need the late day's share of requests from new networks over
// newNetworkHistoryFactor times the app's usual share, which the exporter
// keeps (salesforce_connected_app_api_new_network_usual_request_share,
// absent until the baseline is ready: no Prometheus history is needed).
// Neither fires when the window figures showed the app's requests from new
// networks at any time in that lateDayWindow: the window alerts judged
// those, and a day read just before the next one (two files within
// lateDayWindow) is not paged twice.

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
  local usual = 'max without(%(haDropLabels)s) (salesforce_connected_app_api_new_network_usual_request_share{%(salesforceExporterSelector)s})' % c;
  local windowShowed(m) = 'sum by (%s) (max without(%s) (max_over_time(%s{%s}[%s]))) > 0' % [c.appMatchLabels, c.haDropLabels, m, c.salesforceExporterSelector, c.lateDayWindow];
  local corr = judged('salesforce_connected_app_api_corroborated_sensitive_requests_from_new_networks_judged_total');
  {
    name: 'salesforce-judged-days',
    rules: [
      {
        alert: 'SalesforceAppLateDayNewNetworksReadSensitiveObjects',
        expr: |||
          %(corr)s > 0
          and on(%(appMatchLabels)s) %(share)s > on(%(appMatchLabels)s) %(newNetworkHistoryFactor)s * %(usual)s
          unless on(%(appMatchLabels)s)
          %(showed)s
        ||| % (c {
                 corr: corr,
                 share: std.rstripChars(share, '\n'),
                 usual: usual,
                 showed: windowShowed('salesforce_connected_app_api_object_requests_from_new_networks'),
               }),
        'for': c.lateDayFor,
        keep_firing_for: c.lateDayKeepFiringFor,
        labels: { severity: 'critical' },
        annotations: {
          summary: 'A late or caught-up log day shows an app reading sensitive objects from networks it never used, with corroborating evidence.',
          description: 'Org {{ $labels.org }}: ApiTotalUsage files read in the last %(lateDayWindow)s hold {{ $value }} requests of app "{{ $labels.app }}" to sensitive objects from networks new on their day, over twice its usual share, that the exporter found corroborated as it judged the day (objects the app never read, a sensitive share above its usual mix, an IOC match, a surge, or addresses outside its declared networks), on a day the 24-hour figures no longer show (it landed late, or with the next one). The pattern of a stolen integration token: revoke its tokens now.' % c,
        },
      },
      {
        alert: 'SalesforceAppLateDayRequestsFromNewNetworks',
        expr: |||
          %(share)s > %(newNetworkMinShare)s
          and on(%(appMatchLabels)s) %(share)s > on(%(appMatchLabels)s) %(newNetworkHistoryFactor)s * %(usual)s
          unless on(%(appMatchLabels)s) %(corr)s > 0
          unless on(%(appMatchLabels)s)
          %(showed)s
        ||| % (c {
                 corr: corr,
                 share: std.rstripChars(share, '\n'),
                 usual: usual,
                 showed: windowShowed('salesforce_connected_app_api_requests_from_new_networks'),
               }),
        'for': c.lateDayFor,
        keep_firing_for: c.lateDayKeepFiringFor,
        labels: { severity: 'warning' },
        annotations: {
          summary: 'A late or caught-up log day shows an app calling from networks it never used.',
          description: 'Org {{ $labels.org }}: {{ $value | humanizePercentage }} of app "{{ $labels.app }}"\'s API requests in ApiTotalUsage files read in the last %(lateDayWindow)s came from networks new on their day, over twice its usual share, on a day the 24-hour figures no longer show (it landed late, or with the next one). The exporter found no corroboration (no new objects, no sensitive share above its usual mix, no IOC match, no surge, nothing outside its declared networks): a planned move (new NAT, region or vendor egress) looks like this. Ask the owner, and read `review` for the networks, users and objects before revoking.' % c,
        },
      },
    ],
  }
