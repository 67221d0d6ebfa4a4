import { describe, expect, it } from 'vitest';
import { dashboardConfigMap, dashboardJson, type Dashboard } from '../generator/observability/dashboards/builder.js';
import { DASHBOARDS } from '../generator/observability/dashboards/index.js';
import { dashboardMetricProblems, formatDashboardMetricProblem } from '../generator/observability/dashboard-metrics.js';
import { catalogueEntry, METRIC_CATALOGUE } from '../generator/observability/metric-catalogue.js';
import { metricNames, PromQLError } from '../generator/observability/promql.js';
import { scrapeConfigs } from '../generator/observability/scrape-targets.js';
import { loadEnvironment } from '../generator/config/load-environment.js';
import { REPO_ROOT } from './support/temp-repo.js';

describe('PromQL metric names', () => {
  it('skips functions, aggregations, label names, label lists, ranges and keywords', () => {
    expect(metricNames('sum by (le, api_provider) (rate(litellm_x_bucket{team="a", job=~"b.*"}[$__rate_interval]))')).toEqual(['litellm_x_bucket']);
    expect(metricNames('histogram_quantile(0.95, sum(rate(a_bucket[5m])) by (le))')).toEqual(['a_bucket']);
    expect(metricNames('a / on (node) group_left (mountpoint) b > bool 1 unless c offset 5m')).toEqual(['a', 'b', 'c']);
    expect(metricNames('count(x > 0) or vector(0)')).toEqual(['x']);
    expect(metricNames('(time() - max by (volume) (v > 0)) / 3600')).toEqual(['v']);
    expect(metricNames('{__name__="named_by_matcher", job="x"}')).toEqual(['named_by_matcher']);
    expect(metricNames('topk(3, sum without (pod) (m{label="sum(by)"}))')).toEqual(['m']);
    expect(metricNames('3600 * 1e3')).toEqual([]);
  });

  it('refuses an unknown function and broken selectors', () => {
    expect(() => metricNames('rat(x[5m])')).toThrow(PromQLError);
    expect(() => metricNames('x{job="a"')).toThrow(/unclosed/);
    expect(() => metricNames('x{job}')).toThrow(/matcher operator/);
    expect(() => metricNames('x{job="a}')).toThrow(/unterminated/);
  });
});

describe('the metric catalogue', () => {
  it('covers every component of the task at its pinned version, each metric with its upstream file', () => {
    const versions = Object.fromEntries(METRIC_CATALOGUE.map((component) => [component.component, component.version]));
    expect(versions).toEqual({
      litellm: '1.85.1',
      'open-webui': '0.11.0',
      argocd: 'v3.3.7',
      'external-secrets': 'v2.5.0',
      longhorn: 'v1.12.0',
      'tailscale-operator': 'v1.102.2',
      'kube-state-metrics': 'v2.20.0',
      'node-exporter': 'v1.12.1',
    });
    for (const component of METRIC_CATALOGUE) {
      expect(component.metrics.length, component.component).toBeGreaterThan(0);
      for (const metric of component.metrics) {
        expect(metric.name, component.component).toMatch(/^[a-zA-Z_:][a-zA-Z0-9_:]*$/);
        expect(metric.source.ref, metric.name).toMatch(/[0-9]/);
        expect(metric.source.file, metric.name).not.toBe('');
      }
    }
    const names = METRIC_CATALOGUE.flatMap((component) => component.metrics.map((metric) => metric.name));
    expect(new Set(names).size).toBe(names.length);
  });

  it('names, for every component, a scrape job Prometheus has in every environment (or the OTLP receiver)', () => {
    for (const env of ['dev', 'prod', 'staging']) {
      const jobs = new Set([...scrapeConfigs(loadEnvironment(REPO_ROOT, env).config).map((job) => job['job_name'] as string), 'otlp-receiver']);
      for (const component of METRIC_CATALOGUE) expect(jobs.has(component.scrapedBy!), `${env}: ${component.component} scrapedBy ${component.scrapedBy}`).toBe(true);
    }
  });

  it('resolves a histogram\'s _bucket, _sum and _count series, and nothing else', () => {
    for (const suffix of ['_bucket', '_sum', '_count']) expect(catalogueEntry(`litellm_llm_api_latency_metric${suffix}`)?.metric.name).toBe('litellm_llm_api_latency_metric');
    expect(catalogueEntry('litellm_llm_api_latency_metric')).toBeUndefined();
    expect(catalogueEntry('argocd_app_info_bucket')).toBeUndefined();
    expect(catalogueEntry('argocd_app_info')?.component.component).toBe('argocd');
  });
});

describe('dashboards as code', () => {
  it('every metric every dashboard query names is catalogued for a scraped component', () => {
    const problems = dashboardMetricProblems(DASHBOARDS);
    expect(problems.map(formatDashboardMetricProblem)).toEqual([]);
    const queried = DASHBOARDS.flatMap((dashboard) => dashboardJson(dashboard)['panels'] as { targets?: { expr: string }[] }[]).flatMap((panel) => panel.targets ?? []);
    expect(queried.length).toBeGreaterThan(30);
  });

  const planted = (expr: string): Dashboard => ({ uid: 'planted', title: 'planted', description: '', tags: [], rows: [{ title: 'r', panels: [{ kind: 'timeseries', title: 'p', description: '', queries: [{ expr }] }] }] });

  it('fails on a planted query naming an unknown metric, a typo in a function, or no metric at all', () => {
    const unknown = dashboardMetricProblems([...DASHBOARDS, planted('sum(rate(litellm_requests_made_up_total[5m]))')]);
    expect(unknown.map(formatDashboardMetricProblem)).toEqual([
      expect.stringMatching(/^generator\/observability\/dashboards: dashboard planted: row "r": panel "p": query 1: metric litellm_requests_made_up_total is not in the metric catalogue\n {2}fix: /),
    ]);
    expect(dashboardMetricProblems([planted('sum(rat(argocd_app_info[5m]))')])[0]?.problem).toMatch(/unknown function rat/);
    expect(dashboardMetricProblems([planted('vector(1)')])[0]?.problem).toMatch(/names no metric/);
    // A histogram's base name is not a series.
    expect(dashboardMetricProblems([planted('rate(litellm_llm_api_latency_metric[5m])')])).toHaveLength(1);
  });

  it('fails on a metric of a component nothing scrapes', () => {
    const unscraped = METRIC_CATALOGUE.map((component) => (component.component === 'longhorn' ? { ...component, scrapedBy: undefined } : component));
    const problems = dashboardMetricProblems(DASHBOARDS, unscraped);
    expect(problems.length).toBeGreaterThan(0);
    expect(problems.every((problem) => /belongs to longhorn, which nothing scrapes/.test(problem.problem))).toBe(true);
  });

  it('lays panels on the 24-column grid without overlap and provisions each dashboard as a sidecar ConfigMap', () => {
    for (const dashboard of DASHBOARDS) {
      const panels = dashboardJson(dashboard)['panels'] as { gridPos: { x: number; y: number; w: number; h: number } }[];
      const cells = new Set<string>();
      for (const { gridPos } of panels) {
        expect(gridPos.x + gridPos.w).toBeLessThanOrEqual(24);
        for (let x = gridPos.x; x < gridPos.x + gridPos.w; x += 1) for (let y = gridPos.y; y < gridPos.y + gridPos.h; y += 1) {
          expect(cells.has(`${x},${y}`), `${dashboard.uid} overlaps at ${x},${y}`).toBe(false);
          cells.add(`${x},${y}`);
        }
      }
      const configMap = dashboardConfigMap(dashboard, 'grafana', { app: 'grafana' }) as { metadata: { labels: Record<string, string> }; data: Record<string, string> };
      expect(configMap.metadata.labels['grafana_dashboard']).toBe('1');
      expect(JSON.parse(configMap.data[`${dashboard.uid}.json`]!).uid).toBe(dashboard.uid);
    }
    expect(() => dashboardJson({ uid: 'wide', title: '', description: '', tags: [], rows: [{ title: 'r', panels: [{ kind: 'stat', title: 'w', description: '', width: 25, queries: [{ expr: 'x' }] }] }] })).toThrow(/width 25/);
  });
});
