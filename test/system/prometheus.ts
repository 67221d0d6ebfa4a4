/**
 * A real Prometheus server (the tool cache's `go install` build, same module
 * version as promtool) started on 127.0.0.1 from the rendered StatefulSet's
 * arguments and the rendered ConfigMap's prometheus.yml and rule files. Only
 * what cannot exist outside the cluster is rewritten, each change noted:
 * the scrape jobs of processes this test runs get a static target instead of
 * Kubernetes service discovery (their relabelling only picks pods), every
 * other job and the Alertmanager discovery are dropped, the intervals shrink
 * so a bounded test sees samples, and /etc paths point at local copies.
 * Then the HTTP API says what Prometheus really loaded and stored.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parse, stringify } from 'yaml';
import type { CatalogueComponent } from '../../generator/observability/metric-catalogue.js';
import { metricNames } from '../../generator/observability/promql.js';
import type { Overrides } from './overrides.js';
import { start, waitForHttp, type Started } from './processes.js';
import type { Container, Manifest } from './rendered.js';

/** A scrape job of the rendered config whose process runs here, and where. */
export interface LocalTarget {
  job: string;
  address: string;
}

/** Scrape and rule evaluation interval of the local run (the rendered one is 1m: a bounded test would see no sample). */
export const LOCAL_INTERVAL = '5s';

export interface LocalConfig {
  /** prometheus.yml as this run's Prometheus loads it. */
  config: Record<string, any>;
  /** Each rewrite, for the report. */
  notes: string[];
  /** The rendered rule files (mount paths) that the config keeps. */
  ruleFiles: string[];
}

/**
 * The rendered prometheus.yml with its scrape targets, discovery and paths
 * made local. `mounts` maps each volume's mount path in the pod to the local
 * folder holding its files.
 */
export function localPrometheusConfig(rendered: string, targets: readonly LocalTarget[], mounts: ReadonlyMap<string, string>): LocalConfig {
  const config = parse(rendered) as Record<string, any>;
  const notes: string[] = [];
  const local = (path: string): string => {
    for (const [mount, dir] of mounts) if (path.startsWith(`${mount}/`)) return join(dir, path.slice(mount.length + 1));
    throw new Error(`prometheus.yml names ${path}, which is in no volume of the rendered StatefulSet; update test/system/prometheus.ts`);
  };
  for (const key of ['scrape_interval', 'evaluation_interval', 'scrape_timeout'] as const) {
    notes.push(`prometheus.yml global.${key}: ${config.global?.[key] ?? '(unset)'} → ${LOCAL_INTERVAL} (a bounded test must see samples within seconds)`);
    config.global = { ...config.global, [key]: LOCAL_INTERVAL };
  }
  const kept: any[] = [];
  const dropped: string[] = [];
  for (const job of config.scrape_configs as any[]) {
    const target = targets.find((candidate) => candidate.job === job.job_name);
    if (!target) {
      dropped.push(job.job_name);
      continue;
    }
    const namespace = job.kubernetes_sd_configs?.[0]?.namespaces?.names?.[0];
    const discovery = job.kubernetes_sd_configs ? 'kubernetes_sd_configs and its pod-selecting relabel_configs' : `static target ${job.static_configs?.[0]?.targets?.join(', ')}`;
    delete job.kubernetes_sd_configs;
    delete job.relabel_configs;
    job.static_configs = [{ targets: [target.address], ...(namespace ? { labels: { namespace } } : {}) }];
    notes.push(`prometheus.yml job ${job.job_name}: ${discovery} → static target ${target.address}${namespace ? ` with label namespace=${namespace} (what the relabelling set)` : ''} (the local process)`);
    if (job.authorization?.credentials_file) {
      const file = local(job.authorization.credentials_file);
      notes.push(`prometheus.yml job ${job.job_name} authorization.credentials_file: ${job.authorization.credentials_file} → ${file} (the Secret volume, its ExternalSecret evaluated)`);
      job.authorization.credentials_file = file;
    }
    kept.push(job);
  }
  config.scrape_configs = kept;
  notes.push(`prometheus.yml scrape jobs dropped (no such process and no Kubernetes API here): ${dropped.join(', ')}`);
  if (config.alerting) {
    notes.push('prometheus.yml alerting: Kubernetes discovery of Alertmanager pods → (removed) (no Alertmanager and no Kubernetes API here; the rules are still loaded and evaluated)');
    delete config.alerting;
  }
  const ruleFiles = [...((config.rule_files ?? []) as string[])];
  config.rule_files = ruleFiles.map((file) => local(file));
  notes.push(`prometheus.yml rule_files: ${ruleFiles.join(', ')} → the same files under ${[...mounts.values()][0]} (the ConfigMap volume)`);
  return { config, notes, ruleFiles };
}

/**
 * The Prometheus command line: the rendered container's arguments with the
 * config file and TSDB paths made local, plus a 127.0.0.1 listen address.
 * Every other flag (the OTLP receiver, lifecycle, retention) stays as rendered.
 */
export function localPrometheusArgs(rendered: readonly string[], configFile: string, tsdb: string, listen: string): { args: string[]; notes: string[] } {
  const notes: string[] = [];
  const args = rendered.map((arg) => {
    const [flag, value] = arg.split(/=(.*)/s) as [string, string | undefined];
    const replaced = flag === '--config.file' ? configFile : flag === '--storage.tsdb.path' ? tsdb : undefined;
    if (replaced === undefined) return arg;
    notes.push(`prometheus ${flag}: ${value} → ${replaced} (a local file and folder)`);
    return `${flag}=${replaced}`;
  });
  if (args.some((arg) => arg.startsWith('--web.listen-address'))) throw new Error('the rendered Prometheus sets --web.listen-address; update test/system/prometheus.ts');
  args.push(`--web.listen-address=${listen}`);
  notes.push(`prometheus --web.listen-address: (unset, 0.0.0.0:9090) → ${listen} (127.0.0.1 only, a free port)`);
  return { args, notes };
}

export interface RunningPrometheus {
  url: string;
  port: number;
  process: Started;
  ruleFiles: string[];
  /** GET /api/v1/<path>; throws unless status is success. */
  api(path: string): Promise<any>;
  /** Every metric name stored since `since` (ms epoch) in series of job `job`. */
  names(since: number, job: string): Promise<Set<string>>;
}

/**
 * Starts Prometheus with the rendered StatefulSet container and ConfigMap;
 * `files` are the Secret volumes' files (mount path → file name → content).
 * Waits for /-/ready within `timeoutMs`.
 */
export async function startPrometheus(options: {
  binary: string;
  dir: string;
  log: string;
  container: Container;
  configMap: Manifest;
  secretFiles: ReadonlyMap<string, Record<string, string>>;
  port: number;
  targets: LocalTarget[];
  overrides: Overrides;
  timeoutMs: number;
}): Promise<RunningPrometheus> {
  const { container, configMap, overrides } = options;
  const configArg = (container.args ?? []).find((arg) => arg.startsWith('--config.file='));
  if (!configArg) throw new Error('the rendered Prometheus container has no --config.file');
  const configMount = dirname(configArg.slice('--config.file='.length));
  const mounts = new Map<string, string>();
  const configDir = join(options.dir, 'config');
  mkdirSync(configDir, { recursive: true });
  mounts.set(configMount, configDir);
  for (const [key, value] of Object.entries(configMap.data ?? {})) writeFileSync(join(configDir, key), value);
  for (const [mount, files] of options.secretFiles) {
    const dir = join(options.dir, 'secret', mount.replace(/[^A-Za-z0-9]+/g, '_'));
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    for (const [name, value] of Object.entries(files)) writeFileSync(join(dir, name), value, { mode: 0o400 });
    mounts.set(mount, dir);
  }
  const port = options.port;
  const local = localPrometheusConfig(configMap.data!['prometheus.yml']!, options.targets, mounts);
  for (const note of local.notes) overrides.note(note);
  const configFile = join(options.dir, 'prometheus.yml');
  writeFileSync(configFile, stringify(local.config));
  const tsdb = join(options.dir, 'data');
  mkdirSync(tsdb, { recursive: true });
  const { args, notes } = localPrometheusArgs(container.args ?? [], configFile, tsdb, `127.0.0.1:${port}`);
  for (const note of notes) overrides.note(note);
  const proc = start({ name: 'prometheus', command: options.binary, args, env: { PATH: process.env.PATH ?? '' }, cwd: options.dir, log: options.log });
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(`${url}/-/ready`, options.timeoutMs, proc);
  const api = async (path: string) => {
    const response = await fetch(`${url}/api/v1/${path}`, { signal: AbortSignal.timeout(30_000) });
    const body = (await response.json()) as { status: string; data: unknown; error?: string };
    if (body.status !== 'success') throw new Error(`Prometheus /api/v1/${path}: HTTP ${response.status} ${body.error ?? ''}`);
    return body.data;
  };
  const names = async (since: number, job: string) =>
    new Set((await api(`label/__name__/values?match[]=${encodeURIComponent(`{job=${JSON.stringify(job)}}`)}&start=${Math.floor(since / 1000) - 60}&end=${Math.ceil(Date.now() / 1000) + 60}`)) as string[]);
  return { url, port, process: proc, ruleFiles: local.ruleFiles, api, names };
}

/** A metric a query or catalogue entry expects, and whether Prometheus stored it. */
export interface Expectation {
  name: string;
  /** Where it is used (dashboard panel, alert, catalogue entry). */
  where: string[];
}

/** The metric names of queries, merged by name (each with every place that uses it), filtered by `keep`. */
export function queriedMetrics(queries: readonly { where: string; expr: string }[], keep: (name: string) => boolean): Expectation[] {
  const byName = new Map<string, string[]>();
  for (const { where, expr } of queries) {
    for (const name of metricNames(expr)) if (keep(name)) byName.set(name, [...(byName.get(name) ?? []), where]);
  }
  return [...byName].map(([name, where]) => ({ name, where })).sort((a, b) => a.name.localeCompare(b.name));
}

/** The stored series names a catalogue component's entries stand for (a histogram: its _bucket, _sum and _count). */
export function catalogueSeries(component: CatalogueComponent): Expectation[] {
  return component.metrics.flatMap((entry) =>
    (entry.type === 'histogram' ? ['_bucket', '_sum', '_count'].map((suffix) => `${entry.name}${suffix}`) : [entry.name]).map((name) => ({
      name,
      where: [`metric catalogue ${component.component} ${component.version}: ${entry.name} (${entry.type}, ${entry.source.repository}@${entry.source.ref} ${entry.source.file})`],
    })),
  );
}

/** The expectations whose name Prometheus did not store. */
export function unobserved(expected: readonly Expectation[], stored: ReadonlySet<string>): Expectation[] {
  return expected.filter((expectation) => !stored.has(expectation.name));
}

/**
 * Compares the unobserved set with the explicit list of metrics that appear
 * only on an event the test cannot cause: both directions are problems (an
 * unlisted gap is a wrong name or a broken path; a listed name that was seen
 * belongs off the list).
 */
export function observationProblems(missing: readonly Expectation[], cannotCause: ReadonlyMap<string, string>, expected: readonly Expectation[]): string[] {
  const problems: string[] = [];
  for (const gap of missing) {
    if (!cannotCause.has(gap.name)) problems.push(`${gap.name} was never stored by Prometheus although ${gap.where.join('; ')} uses it: the name is wrong for the pinned version, or the path to Prometheus is broken`);
  }
  for (const [name, reason] of cannotCause) {
    if (!expected.some((expectation) => expectation.name === name)) problems.push(`${name} is listed as not causable (${reason}) but nothing expects it any more: remove it from the list`);
    else if (!missing.some((gap) => gap.name === name)) problems.push(`${name} is listed as not causable (${reason}) but Prometheus stored it: remove it from the list`);
  }
  return problems;
}
