/**
 * The system test's proof against a real Prometheus: it loads the rendered
 * configuration and every rendered rule file, scrapes the real LiteLLM with
 * the key Prometheus is given, receives Open WebUI's OTLP, and stores every
 * metric the dashboards and alerts query and every Open WebUI entry of the
 * metric catalogue, under exactly those names. What is not stored fails,
 * unless it is in NOT_CAUSABLE (a metric that appears only on an event this
 * test cannot cause), and that list must equal the unobserved set.
 */
import { parse } from 'yaml';
import { DASHBOARDS } from '../../generator/observability/dashboards/index.js';
import { dashboardQueries, type Dashboard } from '../../generator/observability/dashboards/builder.js';
import { METRIC_CATALOGUE } from '../../generator/observability/metric-catalogue.js';
import type { Overrides } from './overrides.js';
import { sleep } from './processes.js';
import { catalogueSeries, LOCAL_INTERVAL, observationProblems, queriedMetrics, startPrometheus, unobserved, type Expectation, type RunningPrometheus } from './prometheus.js';
import type { RenderedTree } from './rendered.js';
import type { Report } from './report.js';

/**
 * Metrics that appear only on an event this test cannot cause, each with why.
 * observationProblems() fails when this differs from what Prometheus did not store.
 */
export const NOT_CAUSABLE: ReadonlyMap<string, string> = new Map([
  [
    'litellm_deployment_cooled_down_total',
    'LiteLLM 1.85.1 cools a deployment down only in a model group with more than one deployment, or after SINGLE_DEPLOYMENT_TRAFFIC_FAILURE_THRESHOLD (1000) requests in one minute that all fail (litellm/router_utils/cooldown_handlers.py, litellm/constants.py); every rendered model group has one deployment',
  ],
]);

export interface ObservedPrometheus extends RunningPrometheus {
  expected: { litellm: Expectation[]; openWebui: Expectation[] };
  /** The job label of Open WebUI's OTLP series: its rendered OTEL_SERVICE_NAME (the resource's service.name). */
  openWebuiJob: string;
}

const OWUI = METRIC_CATALOGUE.find((component) => component.component === 'open-webui')!;

function renderedAlertQueries(tree: RenderedTree): { name: string; where: string; expr: string }[] {
  const file = parse(tree.find('ConfigMap', 'monitoring', 'prometheus').data!['alerting_rules.yml']!) as { groups: { name: string; rules: { alert?: string; record?: string; expr: string }[] }[] };
  return file.groups.flatMap((group) => group.rules.filter((rule) => rule.alert).map((rule) => ({ name: rule.alert!, where: `alert ${rule.alert} (group ${group.name})`, expr: String(rule.expr) })));
}

/** What the dashboards and alerts query from LiteLLM, and what the catalogue claims Open WebUI pushes. */
export function expectedMetrics(tree: RenderedTree, dashboards: readonly Dashboard[] = DASHBOARDS): ObservedPrometheus['expected'] {
  const queries = [...dashboards.flatMap((dashboard) => dashboardQueries(dashboard)), ...renderedAlertQueries(tree)];
  return { litellm: queriedMetrics(queries, (name) => name.startsWith('litellm_')), openWebui: catalogueSeries(OWUI) };
}

function expect(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(message);
}

/** Starts Prometheus (bounded) and proves what it loaded and that it scrapes LiteLLM; undefined when it did not start. */
export async function startObservedPrometheus(c: {
  tree: RenderedTree;
  report: Report;
  overrides: Overrides;
  secrets: Map<string, Record<string, string>>;
  binary: string;
  dir: string;
  log: string;
  port: number;
  llmAddress: string;
}): Promise<ObservedPrometheus | undefined> {
  const { tree, report } = c;
  const statefulSet = tree.container('StatefulSet', 'monitoring', 'prometheus', 'prometheus-server');
  const configMap = tree.find('ConfigMap', 'monitoring', 'prometheus');
  const running = await report.step('Prometheus started on 127.0.0.1 with the rendered StatefulSet arguments (OTLP receiver on) and the rendered prometheus.yml and rule files', async () => {
    const volumes = (statefulSet.manifest.spec.template.spec.volumes ?? []) as { name: string; secret?: { secretName: string } }[];
    const secretFiles = new Map<string, Record<string, string>>();
    for (const volume of volumes.filter((v) => v.secret)) {
      const mount = statefulSet.container.volumeMounts?.find((m) => m.name === volume.name);
      const secret = c.secrets.get(`monitoring/${volume.secret!.secretName}`);
      if (!mount || !secret) throw new Error(`Secret volume ${volume.name} (${volume.secret!.secretName}): no mount or no ExternalSecret in rendered/${tree.env}`);
      secretFiles.set(mount.mountPath, secret);
    }
    expect((statefulSet.container.args ?? []).includes('--web.enable-otlp-receiver'), 'the rendered Prometheus does not enable the OTLP receiver (--web.enable-otlp-receiver): Open WebUI pushes there');
    const prometheus = await startPrometheus({
      binary: c.binary,
      dir: c.dir,
      log: c.log,
      container: statefulSet.container,
      configMap,
      secretFiles,
      port: c.port,
      targets: [
        { job: 'litellm', address: c.llmAddress },
        { job: 'prometheus', address: `127.0.0.1:${c.port}` },
      ],
      overrides: c.overrides,
      timeoutMs: 120_000,
    });
    const openWebuiJob = tree.find('ConfigMap', 'open-webui', 'open-webui-settings').data?.OTEL_SERVICE_NAME;
    expect(openWebuiJob, 'the rendered Open WebUI settings have no OTEL_SERVICE_NAME: its OTLP series would have no job label');
    return { ...prometheus, expected: expectedMetrics(tree), openWebuiJob, detail: `${prometheus.url} (pid ${prometheus.process.pid}), ready` };
  });
  if (!running) return undefined;

  await report.step('Prometheus loaded the rendered config: OTLP settings, the OTLP receiver flag, and every alert of every rendered rule file in the rules API', async () => {
    const loaded = parse(((await running.api('status/config')) as { yaml: string }).yaml) as Record<string, any>;
    const rendered = parse(configMap.data!['prometheus.yml']!) as Record<string, any>;
    expect(JSON.stringify(loaded.otlp?.promote_resource_attributes) === JSON.stringify(rendered.otlp?.promote_resource_attributes), `loaded otlp.promote_resource_attributes ${JSON.stringify(loaded.otlp?.promote_resource_attributes)}, rendered ${JSON.stringify(rendered.otlp?.promote_resource_attributes)}`);
    const strategy = loaded.otlp?.translation_strategy ?? '(default)';
    const flags = (await running.api('status/flags')) as Record<string, string>;
    expect(flags['web.enable-otlp-receiver'] === 'true', `web.enable-otlp-receiver is ${flags['web.enable-otlp-receiver']}`);
    const groups = ((await running.api('rules')) as { groups: { name: string; file: string; rules: { name: string; type: string; health: string; lastError?: string }[] }[] }).groups;
    const alerts = groups.flatMap((group) => group.rules.filter((rule) => rule.type === 'alerting').map((rule) => rule.name));
    const want = renderedAlertQueries(tree).map((rule) => rule.name);
    const missing = want.filter((name) => !alerts.includes(name));
    const extra = alerts.filter((name) => !want.includes(name));
    expect(missing.length === 0 && extra.length === 0, `rules API: missing ${missing.join(', ') || 'none'}; not rendered ${extra.join(', ') || 'none'}`);
    // Each rendered rule file was loaded (an empty `{}` file has no group, so it shows as loaded by the config only).
    const loadedFiles = new Set(groups.map((group) => group.file));
    const withGroups = running.ruleFiles.filter((file) => (parse(configMap.data![file.split('/').pop()!]!) as { groups?: unknown[] } | null)?.groups?.length);
    const notLoaded = withGroups.filter((file) => ![...loadedFiles].some((path) => path.endsWith(`/${file.split('/').pop()}`)));
    expect(notLoaded.length === 0, `rule files with groups not in the rules API: ${notLoaded.join(', ')}`);
    expect(loaded.rule_files?.length === running.ruleFiles.length, `loaded ${loaded.rule_files?.length} rule files, rendered ${running.ruleFiles.length}`);
    const broken = groups.flatMap((group) => group.rules.filter((rule) => rule.health === 'err').map((rule) => `${rule.name}: ${rule.lastError}`));
    expect(broken.length === 0, `rules that fail to evaluate: ${broken.join('; ')}`);
    return `${alerts.length} alerts in ${groups.length} group(s) from ${withGroups.join(', ')} (all ${running.ruleFiles.length} rule files in the loaded config); OTLP receiver on, translation ${strategy}, promoted ${loaded.otlp.promote_resource_attributes.join(', ')}`;
  });

  await report.step('Prometheus scrapes the real LiteLLM with the rendered key: target up', async () => {
    const deadline = Date.now() + 90_000;
    let last = 'no litellm target';
    while (Date.now() < deadline) {
      const targets = ((await running.api('targets?state=active')) as { activeTargets: { labels: Record<string, string>; health: string; lastError: string; scrapeUrl: string }[] }).activeTargets;
      const litellm = targets.find((target) => target.labels.job === 'litellm');
      if (litellm?.health === 'up') {
        const up = (await running.api('query?query=up%7Bjob%3D%22litellm%22%7D')) as { result: { value: [number, string] }[] };
        expect(up.result[0]?.value[1] === '1', `up{job="litellm"} is ${JSON.stringify(up.result)}`);
        return `${litellm.scrapeUrl} up, up{job="litellm"} = 1 (every ${LOCAL_INTERVAL})`;
      }
      last = litellm ? `${litellm.health}: ${litellm.lastError}` : last;
      await sleep(2_000);
    }
    throw new Error(`the litellm target did not come up within 90 s (last: ${last}); log ${c.log}:\n${running.process.tail()}`);
  });
  return running;
}

/**
 * After the journeys: one request the fake provider fails (LiteLLM's failure
 * counters), then every expected name must be stored (polled for a few
 * intervals), and a planted dashboard query on a made-up metric must be
 * reported as unobserved.
 */
export async function observeMetrics(c: { prometheus: ObservedPrometheus; report: Report; since: number; openWebuiRan: boolean; failLiteLLM: () => Promise<{ status: number; text: string }> }): Promise<void> {
  const { prometheus, report } = c;
  await report.step('LiteLLM request the fake provider fails with HTTP 500 (causes the failure metrics)', async () => {
    const answer = await c.failLiteLLM();
    expect(answer.status >= 400, `the failing request got HTTP ${answer.status}: ${answer.text.slice(0, 200)}`);
    return `HTTP ${answer.status}`;
  });
  const expected = [...prometheus.expected.litellm, ...(c.openWebuiRan ? prometheus.expected.openWebui : [])];
  const notCausable = new Map([...NOT_CAUSABLE].filter(([name]) => c.openWebuiRan || !name.startsWith('http_server_') && !name.startsWith('webui_')));
  const stored = await report.step(`real Prometheus stored every litellm_ metric the dashboards and alerts query${c.openWebuiRan ? ' and every Open WebUI metric-catalogue entry (OTLP)' : ''}; unobserved = exactly the not-causable list`, async () => {
    // OTLP exports every 10 s, scrapes every LOCAL_INTERVAL: poll up to 90 s for the last samples.
    const deadline = Date.now() + 90_000;
    // Each name must come from its own job: LiteLLM's from the scrape job, Open WebUI's from the OTLP resource (job = service.name).
    const stored = async () => new Set([...(await prometheus.names(c.since, 'litellm')), ...(c.openWebuiRan ? await prometheus.names(c.since, prometheus.openWebuiJob) : [])]);
    let names = await stored();
    while (Date.now() < deadline && unobserved(expected, names).some((gap) => !notCausable.has(gap.name))) {
      await sleep(5_000);
      names = await stored();
    }
    const missing = unobserved(expected, names);
    const problems = observationProblems(missing, notCausable, expected);
    expect(problems.length === 0, `${problems.join('\n')}\nstored by jobs litellm and ${prometheus.openWebuiJob}: ${[...names].filter((name) => /^(litellm_|http_|webui_)/.test(name)).join(', ')}`);
    return { names, detail: `${expected.length - missing.length} of ${expected.length} stored (${expected.filter((e) => !missing.includes(e)).map((e) => e.name).join(', ')}); not causable: ${missing.map((gap) => `${gap.name} (${notCausable.get(gap.name)})`).join(', ') || 'none'}` };
  });
  if (!c.openWebuiRan) report.skip('Open WebUI OTLP metrics in Prometheus', 'Open WebUI did not run (SYSTEM_TEST_SKIP_OPEN_WEBUI)');
  if (!stored) return report.blocked('failing case: a planted dashboard query on a made-up metric is reported unobserved', 'the observation');
  await report.step('failing case: a planted dashboard query on a made-up metric is reported unobserved', () => {
    const planted: Dashboard = { uid: 'planted', title: 'planted', description: 'system test', tags: [], rows: [{ title: 'planted', panels: [{ kind: 'timeseries', title: 'made-up', description: 'a metric LiteLLM does not export', queries: [{ expr: 'sum(rate(litellm_made_up_requests_total[5m]))' }] }] }] };
    const plantedExpected = queriedMetrics(dashboardQueries(planted), (name) => name.startsWith('litellm_'));
    const missing = unobserved([...expected, ...plantedExpected], stored.names);
    const problems = observationProblems(missing, notCausable, [...expected, ...plantedExpected]);
    expect(problems.length === 1 && problems[0]!.startsWith('litellm_made_up_requests_total was never stored'), `the planted query was not reported alone: ${problems.join(' | ') || 'no problem'}`);
    return problems[0]!.split(' although')[0]!;
  });
}
