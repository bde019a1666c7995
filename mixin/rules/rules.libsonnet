{
  prometheusRules+:: {
    groups+: [
      {
        name: 'salesforce-oauth.rules',
        rules: [
          {
            // The share of an app's API requests that failed (STATUS_CODE >= 400).
            record: 'salesforce:connected_app_api_error_ratio',
            expr: |||
              salesforce_connected_app_api_errors{%(salesforceExporterSelector)s}
                / on(%(appMatchLabels)s, window)
              (salesforce_connected_app_api_requests{%(salesforceExporterSelector)s} > 0)
            ||| % $._config,
          },
          {
            // An app's share of the org's API traffic, by window.
            record: 'salesforce:connected_app_api_requests:org_share',
            expr: |||
              salesforce_connected_app_api_requests{%(salesforceExporterSelector)s}
                / on(%(orgMatchLabels)s, window) group_left()
              (sum by (%(orgMatchLabels)s, window) (salesforce_connected_app_api_requests{%(salesforceExporterSelector)s}) > 0)
            ||| % $._config,
          },
          {
            // Days of API usage history before the latest 24 hours (0 to 6):
            // after a fresh start the 7d window holds less than a week.
            record: 'salesforce:api_usage_history_days',
            expr: |||
              clamp(
                (
                  salesforce_api_usage_data_end_timestamp_seconds{%(salesforceExporterSelector)s}
                    - salesforce_api_usage_data_start_timestamp_seconds{%(salesforceExporterSelector)s}
                ) / 86400 - 1,
                0, 6
              )
            ||| % $._config,
          },
          {
            // The share of an app's OAuth logins in the last 24 hours that failed.
            record: 'salesforce:connected_app_oauth_login_failure_ratio',
            expr: |||
              salesforce_connected_app_oauth_logins{%(salesforceExporterSelector)s, result="failure"}
                / ignoring(result)
              (sum without(result) (salesforce_connected_app_oauth_logins{%(salesforceExporterSelector)s}) > 0)
            ||| % $._config,
          },
        ],
      },
    ],
  },
}
