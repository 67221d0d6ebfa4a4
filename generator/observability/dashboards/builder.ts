/**
 * A small typed builder for Grafana dashboards: a dashboard is rows of panels,
 * each panel one or more PromQL queries. It lays the panels out on Grafana's
 * 24-column grid and produces the dashboard JSON model Grafana provisions
 * (schemaVersion 39). Every query goes to the Prometheus datasource by its
 * provisioned uid, so a dashboard works as soon as Grafana starts.
 */

/** uid of the Prometheus datasource Grafana provisions (http://prometheus.monitoring.svc:9090). */
export const PROMETHEUS_DATASOURCE_UID = 'prometheus';

export type PanelKind = 'timeseries' | 'stat' | 'table' | 'bargauge';

/** Units Grafana knows (a subset; extend when a panel needs another). */
export type Unit = 'short' | 'percentunit' | 's' | 'ms' | 'bytes' | 'reqps' | 'currencyUSD' | 'none';

export interface Query {
  expr: string;
  /** Legend, e.g. `{{model}}`. */
  legend?: string;
  /** Instant query (stat and table panels), instead of a range. */
  instant?: boolean;
}

export interface Panel {
  kind: PanelKind;
  title: string;
  description: string;
  queries: readonly Query[];
  unit?: Unit;
  /** Width in grid columns (of 24); default 12. */
  width?: number;
  /** Height in grid rows; default 8. */
  height?: number;
  /** Thresholds for stat panels: the value from which the colour turns red. */
  redFrom?: number;
}

export interface Row {
  title: string;
  panels: readonly Panel[];
}

export interface Dashboard {
  uid: string;
  title: string;
  description: string;
  tags: readonly string[];
  rows: readonly Row[];
}

/** The queries of every panel of a dashboard, with where they are (for checks and error messages). */
export function dashboardQueries(dashboard: Dashboard): { where: string; expr: string }[] {
  return dashboard.rows.flatMap((row) =>
    row.panels.flatMap((panel) => panel.queries.map((query, index) => ({ where: `dashboard ${dashboard.uid}: row "${row.title}": panel "${panel.title}": query ${index + 1}`, expr: query.expr }))),
  );
}

const GRID_COLUMNS = 24;
const datasource = { type: 'prometheus', uid: PROMETHEUS_DATASOURCE_UID };

function panelJson(panel: Panel, id: number, gridPos: { x: number; y: number; w: number; h: number }): Record<string, unknown> {
  const thresholds = {
    mode: 'absolute',
    steps: [{ color: 'green', value: null }, ...(panel.redFrom === undefined ? [] : [{ color: 'red', value: panel.redFrom }])],
  };
  return {
    id,
    type: panel.kind,
    title: panel.title,
    description: panel.description,
    datasource,
    gridPos,
    fieldConfig: { defaults: { unit: panel.unit ?? 'short', thresholds }, overrides: [] },
    options: panel.kind === 'timeseries' ? { legend: { displayMode: 'table', placement: 'bottom', showLegend: true }, tooltip: { mode: 'multi', sort: 'desc' } } : { reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false } },
    targets: panel.queries.map((query, index) => ({
      refId: String.fromCharCode(65 + index),
      datasource,
      expr: query.expr,
      ...(query.legend ? { legendFormat: query.legend } : {}),
      ...(query.instant || panel.kind !== 'timeseries' ? { instant: true, range: false } : { instant: false, range: true }),
      ...(panel.kind === 'table' ? { format: 'table' } : {}),
    })),
  };
}

/** The Grafana dashboard JSON model: rows become row panels, panels flow left to right and wrap at 24 columns. */
export function dashboardJson(dashboard: Dashboard): Record<string, unknown> {
  const panels: Record<string, unknown>[] = [];
  let id = 1;
  let y = 0;
  for (const row of dashboard.rows) {
    panels.push({ id: id++, type: 'row', title: row.title, collapsed: false, gridPos: { x: 0, y, w: GRID_COLUMNS, h: 1 }, panels: [] });
    y += 1;
    let x = 0;
    let rowHeight = 0;
    for (const panel of row.panels) {
      const w = panel.width ?? 12;
      const h = panel.height ?? 8;
      if (w < 1 || w > GRID_COLUMNS) throw new Error(`dashboard ${dashboard.uid}: panel "${panel.title}": width ${w} is outside 1..${GRID_COLUMNS}`);
      if (x + w > GRID_COLUMNS) {
        y += rowHeight;
        x = 0;
        rowHeight = 0;
      }
      panels.push(panelJson(panel, id++, { x, y, w, h }));
      x += w;
      rowHeight = Math.max(rowHeight, h);
    }
    y += rowHeight;
  }
  return {
    uid: dashboard.uid,
    title: dashboard.title,
    description: dashboard.description,
    tags: [...dashboard.tags],
    editable: false,
    graphTooltip: 1,
    refresh: '1m',
    schemaVersion: 39,
    time: { from: 'now-6h', to: 'now' },
    timezone: 'utc',
    templating: { list: [] },
    annotations: { list: [] },
    panels,
  };
}

/** Label Grafana's dashboard sidecar looks for on ConfigMaps (the grafana chart's default `sidecar.dashboards.label`). */
export const DASHBOARD_CONFIGMAP_LABEL = 'grafana_dashboard';

/** A ConfigMap carrying one dashboard, for Grafana's dashboard sidecar to provision. */
export function dashboardConfigMap(dashboard: Dashboard, namespace: string, labels: Record<string, string>): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: `dashboard-${dashboard.uid}`, namespace, labels: { ...labels, [DASHBOARD_CONFIGMAP_LABEL]: '1' } },
    data: { [`${dashboard.uid}.json`]: `${JSON.stringify(dashboardJson(dashboard), null, 2)}\n` },
  };
}

/** Helpers for the common query shapes, so dashboards read as intent. */
export const promql = {
  /** Per-second rate summed by the given labels. */
  rateBy: (metric: string, by: readonly string[], selector = '') => `sum by (${by.join(', ')}) (rate(${metric}${selector ? `{${selector}}` : ''}[$__rate_interval]))`,
  /** Increase over the dashboard's time range, summed by the given labels. */
  increaseBy: (metric: string, by: readonly string[], selector = '') => `sum by (${by.join(', ')}) (increase(${metric}${selector ? `{${selector}}` : ''}[$__range]))`,
  /** A quantile of a histogram, by the given labels. */
  quantileBy: (quantile: number, histogram: string, by: readonly string[], selector = '') =>
    `histogram_quantile(${quantile}, sum by (le, ${by.join(', ')}) (rate(${histogram}_bucket${selector ? `{${selector}}` : ''}[$__rate_interval])))`,
};
