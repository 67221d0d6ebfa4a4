/**
 * Hydration: every pinned add-on chart rendered by the pinned helm, from the
 * vendored archive, with the values the generator builds, into plain
 * manifests for rendered/<env>/<addon>/. Argo CD then syncs plain YAML and
 * never runs helm itself.
 *
 * Per environment, each chart is templated with the release name and
 * namespace, `--kube-version` from `k3s.version` and `--api-versions` for the
 * CRDs the environment really renders (a first pass finds them, the second
 * renders with them). Every render runs twice and must give the same bytes:
 * a chart that makes random values at template time is an error naming the
 * template. Outputs are cached by everything that decides them (helm version,
 * archive digest, arguments, values), so a warm render starts no helm at all.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChartException, ChartSource } from '../argocd/application.js';
import { POLICY_EXCEPTION_PREFIX } from '../policy-exceptions.js';
import type { ConfigIssue } from '../config/errors.js';
import type { Environment } from '../config/load-environment.js';
import { readYamlFile } from '../config/yaml-source.js';
import { serializeManifestBody, type Manifest } from '../render-environment.js';
import { loadDocuments } from '../validate/fast-yaml.js';
import { ProcessGate } from '../process-gate.js';
import { toolCacheRoot } from '../../scripts/tools/tool-cache.js';
import { ensureHelm, HELM_VERSION, helmEnvironment, HelmError, runHelm } from './helm.js';
import { ChartError, CHARTS_DIR, CHARTS_LOCK, lockedChart, readChartLock, verifyArchive, type ChartLock, type LockedChart } from './lock.js';
import { scopeOf, type Scope } from '../k8s/api-scope.js';
import { crdApiVersions, NORMALIZATION, normalizeManifest } from './normalize.js';

/** One chart to hydrate into one folder of an environment. */
export interface ChartRequest {
  folder: string;
  namespace: string;
  source: ChartSource;
}

export interface HydratedManifest {
  manifest: Manifest;
  /** Template of the chart that produced it (`argo-cd/templates/...`). */
  template: string;
  /** The manifest serialised the way rendered/ holds it, without the file header. */
  body?: string;
}

export interface HydratedFolder {
  folder: string;
  chart: LockedChart;
  /** `charts/<archive>` */
  archive: string;
  manifests: HydratedManifest[];
}

/** Problems of a hydration, each naming its file. */
export class HydrationError extends ChartError {}

export interface HydrateOptions {
  root: string;
  /**
   * Where rendered outputs are cached, by a digest of everything that decides them, so clones
   * share it (default: `chart-renders/` of the per-user tool cache); `false` disables the cache.
   */
  cacheDir?: string | false;
  /** Concurrent helm processes across every environment (default: cores + 1). */
  concurrency?: number;
  /** The helm binary (default: the pinned one, installed on first use). */
  helm?: string;
}

interface TemplateCall {
  archivePath: string;
  chart: LockedChart;
  releaseName: string;
  namespace: string;
  kubeVersion: string;
  apiVersions: string[];
  values: Record<string, unknown>;
  exceptions: ChartException[];
}

function templateArgs(call: TemplateCall, valuesFile: string): string[] {
  return [
    'template',
    call.releaseName,
    call.archivePath,
    '--namespace',
    call.namespace,
    '--kube-version',
    call.kubeVersion,
    ...call.apiVersions.flatMap((version) => ['--api-versions', version]),
    '--values',
    valuesFile,
    '--include-crds',
    // Helm test hooks are never run by Argo CD (no hook type maps to them): leave them out.
    '--skip-tests',
  ];
}

/** What decides helm's output (exceptions are applied after helm). */
function cacheKey(call: TemplateCall): string {
  const { archivePath: _path, chart, exceptions: _exceptions, ...rest } = call;
  return createHash('sha256').update(JSON.stringify({ helm: HELM_VERSION, sha256: chart.sha256, ...rest })).digest('hex');
}

/** `# Source: argo-cd/templates/x.yaml` → `argo-cd/templates/x.yaml` */
function sourceTemplate(text: string): string {
  return /^# Source:\s*(\S+)/m.exec(text)?.[1] ?? '(unknown template)';
}

/**
 * Splits helm's output into documents, each with the template that wrote it
 * (helm's `# Source:` line); drops empty documents. Documents are read with
 * Kubernetes' YAML 1.1 booleans, as the API server reads them.
 */
export function parseTemplateOutput(output: string, file: string): HydratedManifest[] {
  const manifests: HydratedManifest[] = [];
  for (const chunk of output.split(/^---[ \t]*$/m)) {
    const template = sourceTemplate(chunk);
    let documents: unknown[];
    try {
      documents = loadDocuments(chunk);
    } catch (error) {
      throw new HydrationError([{ file, path: template, problem: `helm wrote YAML that does not parse: ${(error as Error).message.split('\n')[0]}` }]);
    }
    for (const value of documents) {
      if (value === null || value === undefined) continue;
      manifests.push({ manifest: value as Manifest, template });
    }
  }
  return manifests;
}

/** Adds the exception annotations (`policy.dubai-hub.example/allow-<rule>: reason`) that name this object. */
function applyExceptions(manifest: Manifest, exceptions: readonly ChartException[], used: Set<ChartException>): void {
  for (const exception of exceptions) {
    if (exception.kind !== manifest.kind || exception.name !== manifest.metadata.name) continue;
    used.add(exception);
    const annotations = (manifest.metadata.annotations ?? {}) as Record<string, string>;
    for (const [rule, reason] of Object.entries(exception.allow)) annotations[`${POLICY_EXCEPTION_PREFIX}${rule}`] = reason;
    manifest.metadata.annotations = annotations;
  }
}

/** Templates whose documents differ between two renders of the same inputs. */
function differingTemplates(first: string, second: string): string[] {
  const byTemplate = (output: string) => {
    const map = new Map<string, string>();
    for (const part of output.split(/^---\s*$/m)) {
      const template = sourceTemplate(part);
      map.set(template, (map.get(template) ?? '') + part);
    }
    return map;
  };
  const [a, b] = [byTemplate(first), byTemplate(second)];
  return [...new Set([...a.keys(), ...b.keys()])].filter((template) => a.get(template) !== b.get(template)).sort();
}

export class Hydrator {
  private readonly gate: ProcessGate;
  private readonly cacheDir: string | false;
  private lock?: ChartLock;
  private helm?: string;

  constructor(private readonly options: HydrateOptions) {
    this.gate = new ProcessGate(options.concurrency);
    this.cacheDir = options.cacheDir === undefined ? join(toolCacheRoot(), 'chart-renders') : options.cacheDir;
  }

  private chartLock(): ChartLock {
    this.lock ??= readChartLock(this.options.root);
    return this.lock;
  }

  private helmBinary(): string {
    this.helm ??= this.options.helm ?? ensureHelm();
    return this.helm;
  }

  /** Resolves each request to its locked, verified archive; every problem of the environment at once. */
  private resolve(environment: Environment, requests: ChartRequest[]): { request: ChartRequest; chart: LockedChart }[] {
    const lock = this.chartLock();
    const issues: ConfigIssue[] = [];
    const resolved: { request: ChartRequest; chart: LockedChart }[] = [];
    const envFile = `environments/${environment.config.name}.yaml`;
    for (const request of requests) {
      const pin = request.source.chart;
      const chart = lockedChart(lock, pin);
      if (!chart) {
        const path = ['addons', request.source.configKey, 'version'];
        const position = locate(this.options.root, envFile, path);
        const pinned = lock.charts.filter((entry) => entry.name === pin.chart).map((entry) => entry.version);
        issues.push({
          file: envFile,
          path: path.join('.'),
          ...position,
          problem: `chart ${pin.chart} ${pin.version}${position.line === undefined ? ' (the default of generator/config/schema.ts)' : ''} is not vendored in ${CHARTS_DIR}/ (${CHARTS_LOCK} has ${pinned.length > 0 ? pinned.join(', ') : 'no version of it'})`,
          expected: pinned.length > 0 ? `one of ${pinned.join(', ')}, or a version pulled into ${CHARTS_DIR}/` : `a chart pulled into ${CHARTS_DIR}/`,
          fix: `npm run charts:pull -- ${pin.chart} ${pin.version}, then render again`,
        });
        continue;
      }
      if (chart.repository !== pin.repoURL) {
        issues.push({
          file: envFile,
          path: `addons.${request.source.configKey}.repoURL`,
          ...locate(this.options.root, envFile, ['addons', request.source.configKey, 'repoURL']),
          problem: `${pin.repoURL} is not the repository ${CHARTS_LOCK} records for ${chart.name} ${chart.version} (${chart.repository})`,
          fix: `use ${chart.repository}, or pull the chart from the other repository: npm run charts:pull -- ${pin.chart} ${pin.version} --repository ${pin.repoURL}`,
        });
        continue;
      }
      const tampered = verifyArchive(this.options.root, chart, lock);
      if (tampered) issues.push(tampered);
      else resolved.push({ request, chart });
    }
    if (issues.length > 0) throw new HydrationError(issues);
    return resolved;
  }

  /** A cached result, or `compute()` stored under `key` (written atomically: parallel renders may share the cache). */
  private async cached<T>(key: string, compute: () => Promise<T>): Promise<T> {
    const file = this.cacheDir ? join(this.cacheDir, `${key}.json`) : undefined;
    if (file && existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as T;
    const value = await compute();
    if (file) {
      mkdirSync(this.cacheDir as string, { recursive: true });
      const staging = `${file}.${process.pid}.tmp`;
      writeFileSync(staging, JSON.stringify(value));
      renameSync(staging, file);
    }
    return value;
  }

  /** helm template, twice when `verifyTwice`: both outputs must be the same bytes. */
  private async template(call: TemplateCall, verifyTwice: boolean): Promise<string> {
    const helm = this.helmBinary();
    const dir = join(tmpdir(), `dubai-hub-values-${process.pid}`);
    mkdirSync(dir, { recursive: true });
    const valuesFile = join(dir, `${cacheKey(call)}.json`);
    writeFileSync(valuesFile, JSON.stringify(call.values));
    const archive = `${CHARTS_DIR}/${call.chart.archive}`;
    const once = () =>
      this.gate.run(() => runHelm(helm, templateArgs(call, valuesFile), { env: helmEnvironment() })).then(
        ({ stdout }) => stdout,
        (error: unknown) => {
          if (error instanceof HelmError) throw new HydrationError([{ file: archive, path: '', problem: `helm template ${call.releaseName} (namespace ${call.namespace}) failed: ${error.message}` }]);
          throw error;
        },
      );
    const [first, second] = await Promise.all([once(), verifyTwice ? once() : Promise.resolve(undefined)]);
    if (second !== undefined && first !== second) {
      const templates = differingTemplates(first, second);
      throw new HydrationError([
        {
          file: archive,
          path: templates.join(', '),
          problem: `renders differently each time (random values at template time): ${templates.join(', ')}`,
          expected: 'the same output for the same inputs, so rendered/ is reproducible',
          fix: 'set the value in the add-on values (generator/addons/), or have the Secret come from External Secrets instead of the chart',
        },
      ]);
    }
    return first;
  }

  /** Pass 1: the CRDs a chart renders, reduced to what the second pass needs. */
  private crdsOf(call: TemplateCall): Promise<Manifest[]> {
    return this.cached(`crds-${cacheKey(call)}`, async () =>
      parseTemplateOutput(await this.template(call, false), `${CHARTS_DIR}/${call.chart.archive}`)
        .map(({ manifest }) => manifest)
        .filter((manifest) => manifest.kind === 'CustomResourceDefinition')
        .map((crd) => {
          const spec = crd.spec as { group?: string; scope?: string; names?: { kind?: string }; versions?: { name?: string; served?: boolean }[] };
          return {
            apiVersion: crd.apiVersion,
            kind: crd.kind,
            metadata: { name: crd.metadata.name },
            spec: { group: spec.group, scope: spec.scope, names: { kind: spec.names?.kind }, versions: (spec.versions ?? []).map(({ name, served }) => ({ name, served })) },
          };
        }),
    );
  }

  /** Pass 2: the chart's manifests, verified deterministic, normalised and serialised. */
  private manifestsOf(call: TemplateCall, scope: Scope): Promise<{ manifests: HydratedManifest[]; issues: ConfigIssue[] }> {
    const key = createHash('sha256')
      .update(JSON.stringify({ call: cacheKey(call), exceptions: call.exceptions, normalization: NORMALIZATION, serializer: String(serializeManifestBody), scope: [[...scope.namespacedCustomKinds].sort(), [...scope.clusterCustomKinds].sort()] }))
      .digest('hex');
    return this.cached(`manifests-${key}`, async () => {
      const archive = `${CHARTS_DIR}/${call.chart.archive}`;
      const manifests = parseTemplateOutput(await this.template(call, true), archive);
      const issues: ConfigIssue[] = [];
      const used = new Set<ChartException>();
      for (const entry of manifests) {
        const { manifest, template } = entry;
        if (typeof manifest.kind !== 'string' || typeof manifest.apiVersion !== 'string' || typeof manifest.metadata?.name !== 'string') {
          issues.push({ file: archive, path: template, problem: 'renders a document without apiVersion, kind and metadata.name' });
          continue;
        }
        const { unknownScope } = normalizeManifest(manifest, call.namespace, scope);
        if (unknownScope) {
          issues.push({
            file: archive,
            path: template,
            problem: `renders ${manifest.kind} ${manifest.metadata.name} (${manifest.apiVersion}), whose CRD this environment does not render, so neither its scope nor its schema is known`,
            fix: `turn that part of the chart off in its values (generator/addons/), or add the add-on that provides ${manifest.apiVersion}`,
          });
        }
        applyExceptions(manifest, call.exceptions, used);
        entry.body = serializeManifestBody(manifest);
      }
      for (const exception of call.exceptions) {
        if (!used.has(exception)) {
          issues.push({
            file: archive,
            path: `${exception.kind} ${exception.name}`,
            problem: `a policy exception (${Object.keys(exception.allow).join(', ')}) names ${exception.kind} ${exception.name}, which the chart does not render`,
            fix: 'remove the exception from the add-on (generator/addons/) or correct the kind and name',
          });
        }
      }
      return { manifests, issues };
    });
  }

  /** Hydrates every chart of one environment. */
  async hydrate(environment: Environment, requests: ChartRequest[]): Promise<HydratedFolder[]> {
    if (requests.length === 0) return [];
    const resolved = this.resolve(environment, requests);
    const kubeVersion = environment.config.k3s.version.replace(/\+.*$/, '');
    const calls = (apiVersions: string[]) =>
      resolved.map(
        ({ request, chart }): TemplateCall => ({
          archivePath: join(this.options.root, CHARTS_DIR, chart.archive),
          chart,
          releaseName: request.source.releaseName,
          namespace: request.namespace,
          kubeVersion,
          apiVersions,
          values: request.source.values,
          exceptions: request.source.exceptions ?? [],
        }),
      );
    // Pass 1: which CRDs does the environment render? Pass 2: render with them as API versions.
    const crds = (await Promise.all(calls([]).map((call) => this.crdsOf(call)))).flat();
    const scope = scopeOf(crds);
    const results = await Promise.all(calls(crdApiVersions(crds)).map((call) => this.manifestsOf(call, scope)));
    const issues = results.flatMap((result) => result.issues);
    if (issues.length > 0) throw new HydrationError(issues);
    return resolved.map(({ request, chart }, index) => ({ folder: request.folder, chart, archive: `${CHARTS_DIR}/${chart.archive}`, manifests: results[index]!.manifests }));
  }
}

/** Position of a field written in the environment file; none when the value is the schema's default. */
function locate(root: string, file: string, path: string[]): { line?: number; column?: number } {
  try {
    const source = readYamlFile(join(root, file), file);
    return source.sourceText(path) === undefined ? {} : (source.locate(path) ?? {});
  } catch {
    return {};
  }
}
