(import 'config.libsonnet') +
(import 'alerts/alerts.libsonnet') +
(import 'alerts/detection.libsonnet') +
(import 'rules/rules.libsonnet') +
(import 'dashboards/dashboards.libsonnet')
