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
        summary: 'Real-time events were lost: the stored stream position had expired.',
        description: 'Org {{ $labels.org }}: the Pub/Sub service refused the stored position of {{ $labels.topic }} (older than its 72-hour retention), and the stream restarted without the events in between. The detection saw none of them; the ApiTotalUsage log files still cover those hours.',
      },
    },
  ],
}
