// The dashboards: one file each, over the shared pieces in common.libsonnet.
(import 'overview.libsonnet') +
(import 'app.libsonnet') +
(import 'review.libsonnet')
