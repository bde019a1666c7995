// The alert groups. Each group is a file of its own under alerts/; adding one
// is one line in the list at the bottom.
{
  prometheusAlerts+:: {
    local c = $._config,
    groups+: [
      (import 'exporter.libsonnet')(c),
      (import 'coverage.libsonnet')(c),
      (import 'security.libsonnet')(c),
      (import 'hygiene.libsonnet')(c),
      (import 'limits.libsonnet')(c),
    ],
  },
}
