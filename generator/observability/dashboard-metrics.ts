/**
 * The check that ties dashboards to the catalogue: every metric a dashboard
 * query names must be in the metric catalogue, for a component that
 * something scrapes. Problems name the dashboard, row, panel and query, and
 * say how to fix them.
 */
import { dashboardQueries, type Dashboard } from './dashboards/builder.js';
import { catalogueEntry, METRIC_CATALOGUE, type CatalogueComponent } from './metric-catalogue.js';
import { metricNames, PromQLError } from './promql.js';

export interface DashboardMetricProblem {
  where: string;
  problem: string;
  fix: string;
}

export function formatDashboardMetricProblem(problem: DashboardMetricProblem): string {
  return `generator/observability/dashboards: ${problem.where}: ${problem.problem}\n  fix: ${problem.fix}`;
}

/** Problems of the dashboards' queries; empty when every metric is catalogued and scraped. */
export function dashboardMetricProblems(dashboards: readonly Dashboard[], catalogue: readonly CatalogueComponent[] = METRIC_CATALOGUE): DashboardMetricProblem[] {
  const problems: DashboardMetricProblem[] = [];
  for (const dashboard of dashboards) {
    for (const { where, expr } of dashboardQueries(dashboard)) {
      let names: string[];
      try {
        names = metricNames(expr);
      } catch (error) {
        if (!(error instanceof PromQLError)) throw error;
        problems.push({ where, problem: `the query does not parse: ${error.message}`, fix: 'correct the PromQL (function names must be PromQL functions)' });
        continue;
      }
      if (names.length === 0) problems.push({ where, problem: `the query names no metric: ${expr}`, fix: 'a panel must show a metric; query one from generator/observability/metric-catalogue.ts' });
      for (const name of names) {
        const match = catalogueEntry(name, catalogue);
        if (!match) {
          problems.push({ where, problem: `metric ${name} is not in the metric catalogue`, fix: `use a metric the pinned component exports, or add ${name} to generator/observability/metric-catalogue.ts with the upstream file (at the pinned tag) that defines it` });
        } else if (!match.component.scrapedBy) {
          problems.push({ where, problem: `metric ${name} belongs to ${match.component.component}, which nothing scrapes`, fix: `add a scrape target for ${match.component.component} (generator/observability/scrape-targets.ts) and name its job in scrapedBy` });
        }
      }
    }
  }
  return problems;
}
