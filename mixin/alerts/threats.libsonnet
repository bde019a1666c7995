// Threat Detection (the opt-in threat_detection source: Shield or Event
// Monitoring add-on). Salesforce's models score anomalies 0-100 and store
// them; the exporter counts, per org and event type, the last 24 hours'
// events not acknowledged (the org's threat_events_reviewed_until) and
// their highest score. A high score of a type that means a stolen session
// or credential pages critical; any other scored event over the warning
// threshold warns. The figures are re-read over the whole window after a
// restart, so the same events give the same value: nothing fires again.
local h = import '../lib/helpers.libsonnet';

function(c)
  {
    name: 'salesforce-threat-detection',
    rules: [
      h.hold(c, ['threat_detection'])({
        alert: 'SalesforceThreatDetectionCritical',
        expr: |||
          max without(%(haDropLabels)s) (salesforce_threat_detection_max_score{%(salesforceExporterSelector)s, event_type=~"%(threatCriticalTypes)s"}) >= %(threatCriticalScore)s
        ||| % c,
        'for': c.threatDetectionFor,
        keep_firing_for: c.securityKeepFiringFor,
        labels: { severity: 'critical' },
        annotations: {
          summary: 'Salesforce Threat Detection scored an anomaly high.',
          // Not $value: through a restart the held alert's value is 1.
          description: "Org {{ $labels.org }}: a {{ $labels.event_type }} event of the last 24 hours scored %(threatCriticalScore)s or more (of 100), not yet acknowledged (salesforce_threat_detection_max_score has the score). The review's Anomalies section names the user, the address and Salesforce's summary." % c,
        },
      }),
      {
        alert: 'SalesforceThreatDetectionEvent',
        expr: |||
          max without(%(haDropLabels)s) (salesforce_threat_detection_max_score{%(salesforceExporterSelector)s}) >= %(threatWarningScore)s
          unless
          max without(%(haDropLabels)s) (salesforce_threat_detection_max_score{%(salesforceExporterSelector)s, event_type=~"%(threatCriticalTypes)s"}) >= %(threatCriticalScore)s
        ||| % c,
        'for': c.threatDetectionFor,
        keep_firing_for: c.securityKeepFiringFor,
        labels: { severity: 'warning' },
        annotations: {
          summary: 'Salesforce Threat Detection raised a scored anomaly.',
          description: "Org {{ $labels.org }}: a {{ $labels.event_type }} event of the last 24 hours scored {{ $value }} (of 100), not yet acknowledged. Review it (the review's Anomalies section), then acknowledge it with the org's threat_events_reviewed_until.",
        },
      },
    ],
  }
