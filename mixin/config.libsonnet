{
  _config+:: {
    // Selects the exporter's series: the one knob for the scrape job. Change
    // it to match yours (the README's scrape config uses job="salesforce").
    salesforceExporterSelector: 'job="salesforce"',

    // High availability: the labels by which two targets reaching the same
    // exporter differ. Every alert and dashboard sum aggregates them away
    // first (max without(...)), so one org seen through two targets does not
    // double. Add your own target labels (say, a service name) if needed.
    haDropLabels: 'instance, pod',

    // Set when one Prometheus holds several clusters' data (kube-prometheus
    // multi-cluster setups): dashboards then get a cluster variable.
    showMultiCluster: false,
    clusterLabel: 'cluster',

    // Labels that identify one app's series from one exporter; the joins of
    // data series with salesforce_connected_app_info use them.
    // (instance and pod are aggregated away first: haDropLabels.)
    appMatchLabels: 'job, org, app, app_id',
    orgMatchLabels: 'job, org',

    // Exporter health.
    exporterDownFor: '5m',  // longer if your exporter restarts slowly
    sourceFailingFor: '15m',  // a source that fails this long pages; shorter hides blips
    // The real-time stream: down this long warns (a keepalive comes within
    // 270 seconds, so a reconnect or a restart stays under it); a gap warns
    // for this long after it is counted.
    streamDownFor: '10m',
    streamGapWindowSeconds: 3600,
    // An app whose RowsProcessed of the last 24 hours, on the stream or the
    // stored API events, is over apiSurgeHighWaterRatio times its busiest
    // whole day of the 28 before (salesforce_connected_app_rows_processed_daily_max)
    // and at least this many rows warns (SalesforceAppRowsSurge): a bulk
    // export. Quiet until the app has such a day.
    appRowsSurgeMinRows: 100000,
    appRowsSurgeFor: '0m',
    staleDataFactor: 3,  // data older than this many refresh intervals is stale
    staleDataMinSeconds: 900,  // ... and at least this old, so short intervals don't flap
    staleDataFor: '10m',
    // Sources whose failure always pages. The others (sessions, logins,
    // external_client_apps) page only once they worked and broke; one that
    // never worked is an info alert (a permission not granted yet).
    requiredSources: 'oauth_tokens|apps|api_usage|limits',
    optionalSourceUnavailableFor: '1h',
    // A source whose visibility is limited or unverified (a permission
    // missing, or the permissions unreadable) this long warns; permission
    // changes take up to an hour to be re-read.
    sourceVisibilityFor: '2h',
    // ApiTotalUsage daily files appear a day after the fact; raise this for orgs
    // with Daily files only, lower it with Hourly files.
    apiUsageStaleSeconds: 54 * 3600,
    apiUsageDataStaleFor: '1h',
    // The integration user seeing only its own tokens (Customize Application
    // missing) this long warns.
    tokenVisibilityLimitedFor: '30m',
    // A file write (--storage.path) failing this long warns; longer than
    // the slowest write cadence (15 minutes), so a passing fault is quiet.
    storageWriteFailingFor: '15m',
    // A config reload rejected this long warns (the exporter runs the
    // previous config meanwhile).
    configReloadFailedFor: '5m',

    // Coverage: an org that reported within coverageLookback and no longer
    // does, or a security source enabled then and disabled now, pages.
    coverageLookback: '1d',
    coverageLostFor: '15m',
    securitySources: 'oauth_tokens|api_usage',
    // A reset detection baseline (SalesforceDetectionBaselineReset) warns:
    // more than detectionBaselineResetShare of an org's apps (and at least
    // detectionBaselineResetMinApps) have a baseline that starts later than
    // Prometheus saw it in detectionBaselineResetLookback (a baseline only
    // ever starts earlier, unless its memory was lost), or the exporter says
    // it started the org's baseline from nothing in that time. The lookback
    // must cover a restart or a move plus the first log files read after it;
    // the alert fires for about that long. The step is the subquery's.
    detectionBaselineResetLookback: '1d',
    detectionBaselineResetLookbackSeconds: 24 * 3600,
    detectionBaselineResetStep: '5m',
    detectionBaselineResetShare: 0.5,
    detectionBaselineResetMinApps: 2,
    detectionBaselineResetFor: '0m',
    // Sharding: a shard of 0..--orgs.shards-1 with no replica this long pages
    // (its orgs are watched by nobody); longer than one pod's restart.
    shardMissingFor: '15m',
    // Replicas given different --orgs.shards this long; longer than a
    // rolling change of the shard count takes (one pod after another, each
    // ready after its first refresh).
    shardsDisagreeFor: '30m',

    // Security alerts keep firing this long after their condition ends, so a
    // short exporter restart (the data series vanish until the first refresh)
    // does not send "resolved" for a problem nobody fixed. Longer than a
    // restart plus the slowest token refresh.
    securityKeepFiringFor: '30m',
    // The critical ones also stay firing while the org's first read of their
    // sources after a restart has not ended, however long it takes (a full
    // OauthToken read of a big org, a day of log files), for at most this
    // long without the org being reported at all.
    securityRestartHold: '2h',

    // Threat Detection (the threat_detection source). Scores run 0-100. A
    // type that means a stolen session or credentials pages critical from
    // threatCriticalScore; any type warns from threatWarningScore. Raise
    // the warning threshold if your org's models raise many mild events;
    // acknowledge reviewed events with the org's threat_events_reviewed_until.
    threatCriticalTypes: 'api_anomaly|session_hijacking|credential_stuffing',
    threatCriticalScore: 80,
    threatWarningScore: 50,
    threatDetectionFor: '0m',
    // Legacy authentication: the flows whose first use by an app warns
    // (SalesforceAppStartedLegacyLogin), and how far back an earlier use
    // keeps it quiet. Drop device if your apps use the device flow.
    legacyFlows: 'username_password|soap_login|device',
    legacyLoginLookback: '7d',

    // Unknown app: an app with tokens that is not on the inventory.
    unknownAppFor: '0m',

    // Two different apps (app_id) with one name in an org: a look-alike.
    sameNameAppsFor: '5m',

    // An unknown app first authorized within newAppWindowSeconds with this
    // many users is critical: the strongest consent-phishing signal.
    newUnknownAppMinUsers: 3,

    // New app: first authorized within this window. The lookback keeps the
    // alert firing across an exporter restart, so it does not re-fire.
    newAppWindowSeconds: 24 * 3600,
    newAppLookback: '2h',

    // Authorization surge (consent phishing): authorized users of an app grow
    // by at least authSurgeMinUsers and by authSurgeRatio times within
    // authSurgeWindow (compared by org and app name, or app_id for a renamed
    // app). Apps unseen a window ago count from zero, but only where the
    // org's token data existed a window ago with full visibility.
    authSurgeWindow: '1h',
    authSurgeMinUsers: 10,
    authSurgeRatio: 2,
    // The same over a day, for campaigns that run over days.
    authSurgeLongWindow: '24h',
    authSurgeLongMinUsers: 20,

    // API surge (stolen token): 24h requests above apiSurgeFactor times the
    // daily average of the six days before, with at least apiSurgeMinRequests
    // so that small apps don't flap.
    apiSurgeFactor: 3,
    apiSurgeMinRequests: 1000,
    // An app without traffic before the latest 24 hours (a new app's bulk
    // export, a dormant integration waking up) pages at this many requests.
    apiSurgeNewAppMinRequests: 10000,
    // Days of history the baseline needs; after a fresh start (free orgs keep
    // log files one day) the exporter builds it up a day at a time.
    apiSurgeMinHistoryDays: 2,
    // Nor does an app page within this many times its busiest day of the 28
    // before the 24h window (salesforce_connected_app_api_requests_daily_max,
    // from the exporter's history): its weekly job, its usual days before a
    // holiday. The authorization surge likewise counts only the users beyond
    // the most the app had on a day of the 28 before yesterday
    // (salesforce_connected_app_authorized_users_max): a re-authorization
    // wave after a mass revocation stays quiet.
    apiSurgeHighWaterRatio: 3,
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

    // Detection: where apps' API requests and OAuth logins come from, and
    // what they touch (alerts/detection.libsonnet).
    // Requests from new networks. The exporter keeps each app's usual share
    // of requests from new networks (salesforce_connected_app_api_new_network_usual_request_share:
    // its highest daily share over the days that feed its baseline, flagged
    // days left out) next to today's share, and judges the evidence that
    // corroborates them (salesforce_connected_app_api_new_network_evidence).
    // An app is unusual when today's share is over newNetworkHistoryFactor
    // times its usual share (the exporter leaves the days over twice it out
    // of the baseline, so keep the two the same). A mobile app whose users
    // roam has a high usual share and stays quiet; an integration that
    // always calls from the same networks has a usual share of 0, so any new
    // network stands out. Both shares are absent until the app has been
    // watched for detection.min_baseline (default 7 days): no page before.
    // New networks alone page a warning at newNetworkMinShare or more of
    // the day's requests (a planned move is the usual objects at the usual
    // volume); with evidence and sensitive objects read, critical at any
    // share.
    newNetworkMinShare: 0.01,
    newNetworkHistoryFactor: 2,
    // The app dashboard's history panel of the share: the alerts no longer
    // read Prometheus history.
    newNetworkHistory: '7d',
    newNetworkHistoryOffset: '1d',
    newNetworkHistoryStep: '1h',
    newNetworkFor: '0m',
    // OAuth logins from new networks (alerts/detection.libsonnet): read
    // every refresh of the logins source (LoginHistory), so they page in
    // minutes, not when the next day's log file lands. The exporter judges
    // them against its own baseline (nothing is new before
    // detection.min_baseline). Critical with corroboration: a login from an
    // IOC address, an app dormant for dormantAppIdleDays waking, or the
    // app's API requests from new networks with evidence. Otherwise a
    // warning when loginNewNetworkUserShare or more of the app's login users
    // came from new networks, and over newNetworkHistoryFactor times the
    // app's usual share of API requests from new networks: an integration's
    // one user moved (or was replayed); one traveller among a mobile app's
    // many users, or a roaming mobile app, is quiet.
    // Apps whose inventory entry declares networks are judged by
    // SalesforceAppTrafficOutsideDeclaredNetworks instead: a move inside
    // the declared networks is quiet.
    loginNewNetworkUserShare: 0.5,
    loginNewNetworkFor: '0m',
    // A known (inventory) app reading a sensitive object it never read before.
    newSensitiveObjectFor: '0m',
    // Any request or login from an address on an IOC list.
    iocFor: '0m',
    // Declared expectations (alerts/declared.libsonnet): any request or
    // login from outside the networks an app's inventory entry declares, and
    // objects it does not declare. The figures change once per log file or
    // login read, so there is nothing to wait out.
    declaredNetworksFor: '0m',
    declaredObjectsFor: '0m',
    // Late and caught-up log days (alerts/days.libsonnet): what the judged
    // counters gained over lateDayWindow, graded as the window alerts are:
    // critical for corroborated sensitive reads from new networks at any
    // share, a warning for new networks alone at newNetworkMinShare. It must be shorter than the time
    // between two files that land on time (a day), or the day before the
    // newest would count as late; two hours holds a refresh's files. The
    // alert keeps firing for lateDayKeepFiringFor, as the window alerts
    // would for the day the window shows.
    lateDayWindow: '2h',
    lateDayFor: '0m',
    lateDayKeepFiringFor: '1d',
    // Dormant apps (alerts/dormant.libsonnet): an approved app idle for at
    // least this many days (no API request or OAuth login in the
    // exporter's baseline) that wakes and reads sensitive objects. The
    // exporter keeps its baseline for as long as it runs, so an app idle
    // for longer than the exporter has watched it is not seen as dormant.
    dormantAppIdleDays: 60,
    dormantAppFor: '0m',

    // Posture changes (alerts/posture.libsonnet): an alert fires for this
    // long after the exporter found the change (its timestamp), then the
    // review and the dashboards hold it.
    postureChangeWindowSeconds: 3600,
    // The exporter's detection.min_baseline, in seconds: the dashboards show
    // a younger baseline as still learning (nothing counts as new yet).
    detectionMinBaselineSeconds: 7 * 24 * 3600,

    // Runbook links: %s is the alert name, lower-cased.
    runbookURLPattern: 'https://github.com/salesforce-oauth-exporter/salesforce_oauth_exporter/blob/main/docs/runbooks.md#%s',

    // The security review dashboard's thresholds: many users but little use
    // (maybe abandoned), and few users but heavy use (a service account with
    // broad access).
    reviewHighUsers: 20,
    reviewLowUse7d: 100,
    reviewLowUsers: 3,
    reviewHighUse7d: 10000,

    // The PrometheusRule manifest (go run ./mixin/cmd/generate
    // -prometheusrule=FILE) for the Prometheus Operator without the chart:
    // its name, and the labels your Prometheus's
    // ruleSelector picks (kube-prometheus-stack: release: <its release>).
    prometheusRuleName: 'salesforce-oauth-exporter',
    prometheusRuleLabels: {},

    // Dashboards.
    dashboardNamePrefix: 'Salesforce / ',
    dashboardTags: ['salesforce', 'oauth', 'security'],
    // The data changes every 5 to 30 minutes; refreshing faster only costs.
    dashboardRefresh: '5m',
    dashboardTimeFrom: 'now-7d',
  },
}
