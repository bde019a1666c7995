{
  _config+:: {
    // Selects the exporter's series. Change it to match your scrape job.
    salesforceExporterSelector: 'job="salesforce"',

    // Set when one Prometheus holds several clusters' data (kube-prometheus
    // multi-cluster setups): dashboards then get a cluster variable.
    showMultiCluster: false,
    clusterLabel: 'cluster',

    // Labels that identify one app's series from one exporter; the joins of
    // data series with salesforce_connected_app_info use them.
    appMatchLabels: 'job, instance, org, app, app_id',
    orgMatchLabels: 'job, instance, org',

    // Exporter health.
    exporterDownFor: '5m',  // longer if your exporter restarts slowly
    sourceFailingFor: '15m',  // a source that fails this long pages; shorter hides blips
    staleDataFactor: 3,  // data older than this many refresh intervals is stale
    staleDataMinSeconds: 900,  // ... and at least this old, so short intervals don't flap
    staleDataFor: '10m',
    // ApiTotalUsage daily files appear a day after the fact; raise this for orgs
    // with Daily files only, lower it with Hourly files.
    apiUsageStaleSeconds: 54 * 3600,

    // Unknown app: an app with tokens that is not on the inventory.
    unknownAppFor: '0m',

    // New app: first authorized within this window. The lookback keeps the
    // alert firing across an exporter restart, so it does not re-fire.
    newAppWindowSeconds: 24 * 3600,
    newAppLookback: '2h',

    // Authorization surge (consent phishing): authorized users of an app grow
    // by at least authSurgeMinUsers and by authSurgeRatio times within
    // authSurgeWindow. Apps unseen a window ago count from zero.
    authSurgeWindow: '1h',
    authSurgeMinUsers: 10,
    authSurgeRatio: 2,

    // API surge (stolen token): 24h requests above apiSurgeFactor times the
    // daily average of the six days before, with at least apiSurgeMinRequests
    // so that small apps don't flap.
    apiSurgeFactor: 3,
    apiSurgeMinRequests: 1000,
    // Days of history the baseline needs; after a fresh start (free orgs keep
    // log files one day) the exporter builds it up a day at a time.
    apiSurgeMinHistoryDays: 2,
    apiSurgeFor: '0m',

    // Error rates, with minimum volumes.
    apiErrorRatio: 0.2,
    apiErrorMinRequests: 500,
    apiErrorFor: '15m',
    loginFailureRatio: 0.3,
    loginFailureMinLogins: 20,
    loginFailureFor: '15m',

    // Offboarding and hygiene.
    inactiveUserTokensFor: '30m',  // a leaver's tokens are worth a look soon, not a page at night
    uninstalledAppTokensFor: '30m',
    staleTokensFor: '1h',
    abandonedAppMinUsers: 10,
    abandonedAppUnusedSeconds: 7 * 24 * 3600,
    abandonedAppFor: '1h',

    // The org's daily API allocation (DailyApiRequests).
    apiAllocationWarningUsedRatio: 0.8,
    apiAllocationCriticalUsedRatio: 0.95,
    apiAllocationFor: '10m',
    exporterOverBudgetFor: '30m',

    // Runbook links: %s is the alert name, lower-cased.
    runbookURLPattern: 'https://github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/blob/main/docs/runbooks.md#%s',

    // The security review dashboard's thresholds: many users but little use
    // (maybe abandoned), and few users but heavy use (a service account with
    // broad access).
    reviewHighUsers: 20,
    reviewLowUse7d: 100,
    reviewLowUsers: 3,
    reviewHighUse7d: 10000,

    // Dashboards.
    dashboardNamePrefix: 'Salesforce / ',
    dashboardTags: ['salesforce', 'oauth', 'security'],
    dashboardRefresh: '1m',
    dashboardTimeFrom: 'now-7d',
  },
}
