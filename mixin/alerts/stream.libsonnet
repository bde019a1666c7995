// The real-time stream (the stream source, orgs with Shield or Event
// Monitoring): its subscription down, and the events lost to a gap. Its
// events feed the detection baseline, so a stolen token replayed on the
// stream pages through the detection alerts, graded as the log files are.
local h = import '../lib/helpers.libsonnet';

function(c) {
  name: 'salesforce-stream',
  rules: [
    {
      alert: 'SalesforceStreamDown',
      // Only orgs with the stream enabled have the series; each org and
      // topic is its own alert. A reconnect (seconds) or an exporter
      // restart (the series gone, then back before its first keepalive, at
      // most 270 seconds) stays under the for-duration.
      expr: '%s == 0' % h.m(c, 'salesforce_stream_connected'),
      'for': c.streamDownFor,
      labels: { severity: 'warning' },
      annotations: {
        summary: "An org's real-time event stream is down: its API events arrive only with the next log file.",
        description: 'Org {{ $labels.org }}: the Pub/Sub subscription to {{ $labels.topic }} has not been open for %s. Stolen-token replays are judged from the ApiTotalUsage log files (hours later) until it is back.' % h.humanDuration(c.streamDownFor),
      },
    },
    {
      alert: 'SalesforceStreamReplayGap',
      // A gap counted in the last streamGapWindowSeconds, a restart
      // included (the timestamp is set when the gap is counted, not when
      // it is scraped); 0 is no gap since the start.
      expr: 'time() - (%s > 0) < %d' % [h.m(c, 'salesforce_stream_last_replay_gap_timestamp_seconds'), c.streamGapWindowSeconds],
      labels: { severity: 'warning' },
      annotations: {
        summary: 'Real-time events were lost: the stored stream position had expired or was unreadable.',
        description: 'Org {{ $labels.org }}: the stored position of {{ $labels.topic }} was refused by the Pub/Sub service (older than its 72-hour retention) or unreadable in the state file, and the stream restarted without the events in between. The detection saw none of them; the ApiTotalUsage log files still cover those hours.',
      },
    },
    {
      alert: 'SalesforceAppRowsSurge',
      // The rows an app's API calls processed in the last 24 hours, seen
      // on the stream or in the stored API events, against its busiest
      // whole day of the 28 before (the exporter's high-water mark, kept
      // in its state file across restarts). No mark (the source's first
      // days, an app new to it): quiet. Each source is judged on its own.
      expr: |||
        %(r24)s >= %(appRowsSurgeMinRows)s
        and ignoring(window) %(r24)s > ignoring(window) %(apiSurgeHighWaterRatio)s * %(mark)s
      ||| % c {
        r24: h.m(c, 'salesforce_connected_app_rows_processed_24h'),
        mark: h.m(c, 'salesforce_connected_app_rows_processed_daily_max'),
      },
      'for': c.appRowsSurgeFor,
      labels: { severity: 'warning' },
      annotations: {
        summary: 'An app processed far more rows than on its busiest recent day: possible bulk export.',
        description: 'Org {{ $labels.org }}: app "{{ $labels.app }}" processed {{ $value }} rows in 24 hours (%(source)s), over %(apiSurgeHighWaterRatio)s times its busiest day of the 4 weeks before and at least %(appRowsSurgeMinRows)s. Check what it exported (the review lists its objects); revoke its tokens if unexpected.' % c { source: 'source {{ $labels.source }}' },
      },
    },
  ],
}
