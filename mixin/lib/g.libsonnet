// A few plain helpers for Grafana dashboards (grafonnet can't be fetched here).
local ds = { type: 'prometheus', uid: '${datasource}' };

{
  datasource:: ds,

  // A Prometheus query; instant ones feed tables and stats.
  target(expr, legend='', instant=false, format='time_series', refId='A'):: {
    datasource: ds,
    expr: expr,
    legendFormat: legend,
    refId: refId,
    instant: instant,
    range: !instant,
    format: format,
  },

  local panel(type, title, description, unit, targets) = {
    type: type,
    title: title,
    description: description,
    datasource: ds,
    targets: [t { refId: std.char(65 + i) } for i in std.range(0, std.length(targets) - 1) for t in [targets[i]]],
    fieldConfig: { defaults: { unit: unit }, overrides: [] },
    options: {},
  },

  // thresholds: [[value, colour], ...] above the base colour (green unless
  // base says otherwise); mappings: Grafana value mappings.
  stat(title, description, unit, expr, thresholds=null, base='green', mappings=[], colorMode='value'):: panel('stat', title, description, unit, [self.target(expr, instant=true)]) {
    options: {
      reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false },
      orientation: 'auto',
      textMode: 'auto',
      colorMode: colorMode,
      graphMode: 'none',
      justifyMode: 'auto',
      wideLayout: true,
      showPercentChange: false,
      percentChangeColorMode: 'standard',
    },
    fieldConfig+: { defaults+: (if thresholds == null then {} else {
                                  thresholds: { mode: 'absolute', steps: [{ color: base, value: null }] + [{ color: s[1], value: s[0] } for s in thresholds] },
                                }) + (if mappings == [] then {} else { mappings: mappings }) },
  },

  // thresholds, as in stat, are drawn as dashed lines.
  timeseries(title, description, unit, targets, stack=false, thresholds=null)::
    local custom = { drawStyle: 'line', lineWidth: 1, fillOpacity: if stack then 30 else 10, stacking: { mode: if stack then 'normal' else 'none' } };
    panel('timeseries', title, description, unit, targets) {
      fieldConfig+: { defaults+: if thresholds == null then { custom: custom } else {
        custom: custom { thresholdsStyle: { mode: 'dashed' } },
        thresholds: { mode: 'absolute', steps: [{ color: 'green', value: null }] + [{ color: s[1], value: s[0] } for s in thresholds] },
      } },
      options: { legend: { showLegend: true, displayMode: 'table', placement: 'right', calcs: ['lastNotNull', 'max'] }, tooltip: { mode: 'multi', sort: 'desc' } },
    },

  // A table of instant queries merged on their labels, one column per query.
  // columns: [{ expr, title, unit }]; labels: the label columns to keep.
  // links: data links on label columns, { column: [link, ...] }.
  table(title, description, columns, labels, sortBy=null, links={}):: panel('table', title, description, 'none', [self.target(c.expr, instant=true, format='table') for c in columns]) {
    transformations: [
      { id: 'merge', options: {} },
      {
        id: 'organize',
        options: {
          excludeByName: { Time: true },
          indexByName: { [labels[i]]: i for i in std.range(0, std.length(labels) - 1) } + { ['Value #' + std.char(65 + i)]: std.length(labels) + i for i in std.range(0, std.length(columns) - 1) },
          renameByName: { ['Value #' + std.char(65 + i)]: columns[i].title for i in std.range(0, std.length(columns) - 1) },
        },
      },
      { id: 'filterFieldsByName', options: { include: { names: labels + [c.title for c in columns] } } },
    ],
    fieldConfig+: {
      overrides: [
        { matcher: { id: 'byName', options: c.title }, properties: [{ id: 'unit', value: c.unit }] }
        for c in columns
      ] + [
        { matcher: { id: 'byName', options: col }, properties: [{ id: 'links', value: links[col] }] }
        for col in std.objectFields(links)
      ],
    },
    options: { showHeader: true, frameIndex: 0, footer: { show: false, reducer: ['sum'], countRows: false, fields: '' }, sortBy: if sortBy == null then [] else [{ displayName: sortBy, desc: true }] },
  },

  row(title):: { type: 'row', title: title, collapsed: false, panels: [] },

  // Lays panels out left to right; each item is [panel, width, height].
  grid(items)::
    local step(acc, it) =
      local w = it[1];
      local h = it[2];
      local wrap = acc.x + w > 24;
      local x = if wrap then 0 else acc.x;
      local y = if wrap then acc.y + acc.rowH else acc.y;
      {
        x: x + w,
        y: y,
        rowH: if wrap then h else std.max(acc.rowH, h),
        panels: acc.panels + [it[0] { gridPos: { x: x, y: y, w: w, h: h } }],
      };
    local out = std.foldl(step, items, { x: 0, y: 0, rowH: 0, panels: [] });
    [out.panels[i] { id: i + 1 } for i in std.range(0, std.length(out.panels) - 1)],

  variable(name, label, query, multi=true, includeAll=true, hide=0):: {
    name: name,
    label: label,
    type: 'query',
    datasource: ds,
    query: { query: query, refId: 'PrometheusVariableQueryEditor-VariableQuery' },
    definition: query,
    refresh: 2,
    sort: 1,
    multi: multi,
    includeAll: includeAll,
    allValue: '.*',
    hide: hide,
    current: if includeAll then { selected: false, text: 'All', value: '$__all' } else { selected: false, text: '', value: '' },
    options: [],
  },

  // A panel link to a runbook section, opened in a new tab.
  runbookLink(title, url):: self.link(title, url) { icon: 'doc', targetBlank: true },

  link(title, url):: { type: 'link', title: title, url: url, tags: [], asDropdown: false, includeVars: false, keepTime: false, icon: 'dashboard', tooltip: title, targetBlank: false },

  // A data link (table cells, series).
  dataLink(title, url):: { title: title, url: url, targetBlank: false },

  // Firing alerts as annotations.
  alertAnnotation(expr):: {
    name: 'Salesforce alerts',
    datasource: ds,
    enable: true,
    iconColor: 'red',
    expr: expr,
    step: '1m',
    titleFormat: '{{alertname}}',
    textFormat: '{{org}} {{app}} {{source}}',
    tagKeys: 'severity,org',
    useValueForTime: false,
  },

  dashboard(c, title, uid, panels, templating, links=[], annotations=[]):: {
    title: c.dashboardNamePrefix + title,
    uid: uid,
    tags: c.dashboardTags,
    editable: true,
    graphTooltip: 1,
    refresh: c.dashboardRefresh,
    schemaVersion: 39,
    time: { from: c.dashboardTimeFrom, to: 'now' },
    timezone: 'utc',
    panels: panels,
    templating: { list: templating },
    annotations: { list: annotations },
    links: [
      { type: 'dashboards', title: 'Salesforce', url: '', tags: c.dashboardTags[:1], asDropdown: true, includeVars: true, keepTime: true, icon: 'external link', tooltip: 'Salesforce dashboards', targetBlank: false },
    ] + links,
  },
}
