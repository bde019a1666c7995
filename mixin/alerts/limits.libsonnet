// The org's daily API allocation (DailyApiRequests).
local h = import '../lib/helpers.libsonnet';

function(c)
  local used = |||
    1 - %s
      / on(%s) (%s > 0)
  ||| % [h.m(c, 'salesforce_org_daily_api_requests_remaining'), c.orgMatchLabels, h.m(c, 'salesforce_org_daily_api_requests_limit')];
  {
    name: 'salesforce-org-limits',
    rules: [
      {
        alert: 'SalesforceAPIAllocationNearlyExhausted',
        expr: '%s  > %s\n' % [std.rstripChars(used, '\n'), c.apiAllocationWarningUsedRatio],
        'for': c.apiAllocationFor,
        labels: { severity: 'warning' },
        annotations: {
          summary: 'The org has used most of its daily API allocation.',
          description: 'Org {{ $labels.org }} has used {{ $value | humanizePercentage }} of DailyApiRequests in the last 24 hours. Find the heavy app on the overview dashboard.',
        },
      },
      {
        alert: 'SalesforceAPIAllocationExhausted',
        expr: '%s  > %s\n' % [std.rstripChars(used, '\n'), c.apiAllocationCriticalUsedRatio],
        'for': c.apiAllocationFor,
        labels: { severity: 'critical' },
        annotations: {
          summary: 'The org has (nearly) run out of its daily API allocation.',
          description: 'Org {{ $labels.org }} has used {{ $value | humanizePercentage }} of DailyApiRequests: integrations fail with REQUEST_LIMIT_EXCEEDED.',
        },
      },
    ],
  }
