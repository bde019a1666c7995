// The alert groups, built in this one place. Each group is a file of its own
// under alerts/, a function of the one _config (config.libsonnet); adding one
// is one line in the list below. Runbook links are added to every alert
// afterwards (lib/add-runbook-links.libsonnet).
{
  prometheusAlerts+:: {
    local c = $._config,
    groups+: [
      (import 'exporter.libsonnet')(c),
      (import 'coverage.libsonnet')(c),
      (import 'security.libsonnet')(c),
      (import 'hygiene.libsonnet')(c),
      (import 'limits.libsonnet')(c),
      (import 'detection.libsonnet')(c),
      (import 'declared.libsonnet')(c),
      (import 'days.libsonnet')(c),
      (import 'dormant.libsonnet')(c),
      (import 'threats.libsonnet')(c),
      (import 'posture.libsonnet')(c),
      (import 'legacy.libsonnet')(c),
      (import 'stream.libsonnet')(c),
    ],
  },
}
