// Adds a runbook_url annotation to every alert of every group, after all the
// groups are in (mixin.libsonnet applies it last): no alert file links its
// own runbooks, so none can forget. docs/runbooks.md has a section per alert.
local h = import 'helpers.libsonnet';

{
  prometheusAlerts+:: {
    local c = $._config,
    groups: [
      group {
        rules: [
          if std.objectHas(rule, 'alert') then rule {
            annotations+: { runbook_url: h.runbookURL(c, rule.alert) },
          } else rule
          for rule in group.rules
        ],
      }
      for group in super.groups
    ],
  },
}
