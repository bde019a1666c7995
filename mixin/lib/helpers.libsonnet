// Helpers shared by the alert groups (and the runbook link, by the dashboards).
{
  // runbookURL is the link to an alert's runbook section: the one place the
  // link is built, for every alert's annotation (add-runbook-links.libsonnet)
  // and every dashboard panel that links a runbook.
  runbookURL(c, alert):: c.runbookURLPattern % std.asciiLower(alert),

  // humanDuration spells a Prometheus duration of one unit for a sentence:
  // '15m' is '15 minutes', '1h' is '1 hour'; any other ('1h30m') is left as
  // it is.
  humanDuration(d)::
    local units = { s: 'second', m: 'minute', h: 'hour', d: 'day', w: 'week' };
    local n = std.substr(d, 0, std.length(d) - 1);
    local unit = d[std.length(d) - 1];
    if std.length(n) > 0 && std.all([std.member('0123456789', ch) for ch in std.stringChars(n)]) && std.objectHas(units, unit)
    then '%s %s%s' % [n, units[unit], if n == '1' then '' else 's']
    else d,

  // m is one series per org (and app) however many Prometheus targets reach
  // the same exporter: the exporter's series, with the target labels
  // aggregated away first (max without(instance, pod)).
  m(c, metric, extra=''):: 'max without(%s) (%s{%s%s})' % [c.haDropLabels, metric, c.salesforceExporterSelector, if extra == '' then '' else ', ' + extra],

  // mOffset is m, an offset back in time.
  mOffset(c, metric, offset, extra=''):: 'max without(%s) (%s{%s%s} offset %s)' % [c.haDropLabels, metric, c.salesforceExporterSelector, if extra == '' then '' else ', ' + extra, offset],

  // hold keeps a critical security alert firing across an exporter restart
  // whose first read of the alert's sources outlasts keep_firing_for (the
  // data series vanish until it ends): while the org has not finished a
  // read of each source since the start (salesforce_refresh_duration_seconds
  // is published once one has ended), an alert that was firing stays
  // firing. It ends once every source has been read (then the condition
  // alone decides), once one of them is disabled (no read will end; that
  // pages as SalesforceSecuritySourceDisabled), or once the org has not been
  // reported for securityRestartHold (the exporter gone for good:
  // SalesforceExporterDown and SalesforceOrgNotReported page). The held alert's value is 1. Only
  // an alert firing in the last 10 minutes is held: one that resolved before
  // the restart stays resolved.
  hold(c, sources):: function(rule)
    local extra = std.join('', [', %s="%s"' % [k, rule.labels[k]] for k in std.objectFields(rule.labels)]);
    local done = std.join('\n    and on(%s) ' % c.orgMatchLabels, [$.m(c, 'salesforce_refresh_duration_seconds', 'source="%s"' % s) for s in sources]);
    local disabled = std.join('\n    or ', ['%s == 0' % $.m(c, 'salesforce_source_enabled', 'source="%s"' % s) for s in sources]);
    rule {
      expr: |||
        %(expr)s
        or
        (
          max without(alertname, alertstate, %(ruleLabels)s) (
            last_over_time(ALERTS{%(sel)s, alertname="%(alert)s", alertstate="firing"%(extra)s}[10m])
          )
          unless on(%(org)s) (
            %(done)s
          )
          unless on(%(org)s) (
            %(disabled)s
          )
          and on(%(org)s) max without(%(ha)s) (max_over_time(salesforce_up{%(sel)s}[%(hold)s]))
        )
      ||| % {
        expr: std.rstripChars(rule.expr, '\n'),
        ruleLabels: std.join(', ', std.objectFields(rule.labels)),
        sel: c.salesforceExporterSelector,
        alert: rule.alert,
        extra: extra,
        hold: c.securityRestartHold,
        org: c.orgMatchLabels,
        done: done,
        disabled: disabled,
        ha: c.haDropLabels,
      },
    },
}
