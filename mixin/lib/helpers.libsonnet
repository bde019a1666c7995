// Helpers shared by the alert groups.
{
  // runbook adds the runbook link of an alert.
  runbook(c):: function(rule) rule {
    annotations+: { runbook_url: c.runbookURLPattern % std.asciiLower(rule.alert) },
  },

  // group builds a rule group whose alerts carry runbook links.
  group(c, name, rules):: { name: name, rules: std.map($.runbook(c), rules) },

  // m is one series per org (and app) however many Prometheus targets reach
  // the same exporter: the exporter's series, with the target labels
  // aggregated away first (max without(instance, pod)).
  m(c, metric, extra=''):: 'max without(%s) (%s{%s%s})' % [c.haDropLabels, metric, c.salesforceExporterSelector, if extra == '' then '' else ', ' + extra],

  // mOffset is m, an offset back in time.
  mOffset(c, metric, offset, extra=''):: 'max without(%s) (%s{%s%s} offset %s)' % [c.haDropLabels, metric, c.salesforceExporterSelector, if extra == '' then '' else ', ' + extra, offset],
}
