// Losing coverage must not look like all clear: when an org stops being
// reported, or a security source is turned off, every security alert of that
// org resolves without a word. These say so.
local h = import '../lib/helpers.libsonnet';

function(c) h.group(c, 'salesforce-coverage', [
  {
    alert: 'SalesforceOrgNotReported',
    // An org that reported in the last coverageLookback and no longer does
    // (removed from the config, or its exporter lost). Inhibited while the
    // exporter itself is down or absent.
    expr: |||
      max without(%(haDropLabels)s) (max_over_time(salesforce_up{%(salesforceExporterSelector)s}[%(coverageLookback)s]) >= 0)
      unless on(%(orgMatchLabels)s) max without(%(haDropLabels)s) (salesforce_up{%(salesforceExporterSelector)s})
    ||| % c,
    'for': c.coverageLostFor,
    labels: { severity: 'critical' },
    annotations: {
      summary: 'An org the exporter watched is no longer reported: its OAuth access is not watched.',
      description: 'Org {{ $labels.org }} reported in the last %(coverageLookback)s and no longer does. If it was removed from the config on purpose, silence this alert until it ends (%(coverageLookback)s after); otherwise restore the org.' % c,
    },
  },
  {
    alert: 'SalesforceSecuritySourceDisabled',
    expr: |||
      %s == 0
      and on(%s, source) (max without(%s) (max_over_time(salesforce_source_enabled{%s, source=~"%s"}[%s])) == 1)
    ||| % [
      h.m(c, 'salesforce_source_enabled', 'source=~"%s"' % c.securitySources),
      c.orgMatchLabels,
      c.haDropLabels,
      c.salesforceExporterSelector,
      c.securitySources,
      c.coverageLookback,
    ],
    'for': c.coverageLostFor,
    labels: { severity: 'critical' },
    annotations: {
      summary: 'A security data source was disabled: the alerts built on it went silent.',
      description: 'Org {{ $labels.org }}: source {{ $labels.source }} was enabled in the last %(coverageLookback)s and is disabled now. The alerts that read it resolve as if all were clear. Re-enable it, or silence this alert if the change is intended.' % c,
    },
  },
])
