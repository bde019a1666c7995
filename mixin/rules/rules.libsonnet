// Recording rules, named level:metric:operations. The alerts read them: load
// rules.yaml together with alerts.yaml. Each takes the exporter's series
// once per org and app, however many targets reach the exporter.
local h = import '../lib/helpers.libsonnet';

{
  prometheusRules+:: {
    local c = $._config,
    local m(metric, extra='') = h.m(c, metric, extra),
    groups+: [
      {
        name: 'salesforce-oauth.rules',
        rules: [
          {
            // The share of an app's API requests that failed (STATUS_CODE >= 400).
            record: 'org_app_window:salesforce_connected_app_api_errors:ratio',
            expr: |||
              %s
                / on(%s, window)
              (%s > 0)
            ||| % [m('salesforce_connected_app_api_errors'), c.appMatchLabels, m('salesforce_connected_app_api_requests')],
          },
          {
            // An app's share of the org's API traffic, by window.
            record: 'org_app_window:salesforce_connected_app_api_requests:org_share',
            expr: |||
              %s
                / on(%s, window) group_left()
              (sum by (%s, window) (%s) > 0)
            ||| % [m('salesforce_connected_app_api_requests'), c.orgMatchLabels, c.orgMatchLabels, m('salesforce_connected_app_api_requests')],
          },
          {
            // Days of API usage history before the latest 24 hours (0 to 6):
            // after a fresh start the 7d window holds less than a week.
            record: 'org:salesforce_api_usage_history_days:clamped',
            expr: |||
              clamp(
                (
                  %s
                    - on(%s) %s
                ) / 86400 - 1,
                0, 6
              )
            ||| % [m('salesforce_api_usage_data_end_timestamp_seconds'), c.orgMatchLabels, m('salesforce_api_usage_data_start_timestamp_seconds')],
          },
          {
            // The share of an app's API requests in the 24h window that came
            // from networks first seen in it (the detection baseline). One
            // series per app. Recorded so that dashboards can set it against
            // its own highest value of the week before, as
            // SalesforceAppRequestsFromNewNetworks does, without a subquery
            // over two metrics.
            record: 'org_app:salesforce_connected_app_api_requests_from_new_networks:ratio',
            expr: |||
              %s
                / on(%s)
              (%s > 0)
            ||| % [m('salesforce_connected_app_api_requests_from_new_networks'), c.appMatchLabels, m('salesforce_connected_app_api_requests', 'window="24h"')],
          },
          {
            // The share of an app's OAuth logins in the last 24 hours that failed.
            record: 'org_app:salesforce_connected_app_oauth_logins:failure_ratio',
            expr: |||
              %s
                / ignoring(result)
              (sum without(result) (%s) > 0)
            ||| % [m('salesforce_connected_app_oauth_logins', 'result="failure"'), m('salesforce_connected_app_oauth_logins')],
          },
        ],
      },
    ],
  },
}
