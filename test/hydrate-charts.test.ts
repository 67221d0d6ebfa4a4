/**
 * Hydration: the pinned charts rendered by the pinned helm from the vendored
 * archives, as plain files in rendered/<env>/<addon>/. Runs the real helm
 * (slow lane) on temporary copies of the repository.
 */
import { spawnSync } from 'node:child_process';
import { appendFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Hydrator, HydrationError, type ChartRequest } from '../generator/charts/hydrate.js';
import { ensureHelm, helmEnvironment, runHelm } from '../generator/charts/helm.js';
import { sha256Of } from '../generator/charts/lock.js';
import { dropNulls } from '../generator/charts/normalize.js';
import { main } from '../generator/cli.js';
import { loadEnvironment } from '../generator/config/load-environment.js';
import { readTree } from '../generator/write-rendered.js';
import { environment, ROOT } from './support/environments.js';
import { copyOfRepository, type TempRepo } from './support/temp-repo.js';

const TIMEOUT = 300_000;
let repo: TempRepo | undefined;
const scratch: string[] = [];

afterEach(() => {
  repo?.cleanup();
  repo = undefined;
  for (const dir of scratch.splice(0)) rmSync(dir, { recursive: true, force: true });
  vi.restoreAllMocks();
});

async function render(root: string, ...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => ((out += String(chunk)), true));
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => ((err += String(chunk)), true));
  try {
    return { code: await main([...args, '--root', root]), out, err };
  } finally {
    vi.restoreAllMocks();
  }
}

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'dubai-hub-hydrate-'));
  scratch.push(dir);
  return dir;
}

/** Packages a chart folder with the pinned helm into `into`; returns the archive path. */
function helmPackage(chartDir: string, into: string): string {
  const result = spawnSync(ensureHelm(), ['package', chartDir, '--destination', into], { encoding: 'utf8', env: helmEnvironment(), timeout: 120_000 });
  expect(result.status, result.stderr).toBe(0);
  return /saved it to: (\S+)/.exec(result.stdout)![1]!;
}

function lockEntry(name: string, version: string, repository: string, archive: string): string {
  return [
    `  - name: ${name}`,
    `    version: ${version}`,
    `    appVersion: v${version}`,
    `    repository: ${repository}`,
    `    archive: ${name}-${version}.tgz`,
    `    sha256: ${sha256Of(archive)}`,
    '',
  ].join('\n');
}

describe('the render hydrates the pinned charts', { timeout: TIMEOUT }, () => {
  it('reproduces the committed rendered/ byte for byte from the vendored archives alone (helm with no repository configured)', async () => {
    repo = copyOfRepository();
    const before = readTree(join(repo.root, 'rendered'));
    const { code, err } = await render(repo.root, '--check');
    expect(err).toBe('');
    expect(code).toBe(0);
    expect(readTree(join(repo.root, 'rendered'))).toEqual(before);
  });

  it('a chart version bump changes only that add-on folder (and the README) of that environment', async () => {
    repo = copyOfRepository();
    // A Longhorn 1.12.1 made from the vendored 1.12.0, with one template changed.
    const work = tempDir();
    spawnSync('tar', ['-xzf', join(ROOT, 'charts', 'longhorn-1.12.0.tgz'), '-C', work]);
    const chartYaml = join(work, 'longhorn', 'Chart.yaml');
    writeFileSync(chartYaml, readFileSync(chartYaml, 'utf8').replace(/^version: .*$/m, 'version: 1.12.1').replace(/^appVersion: .*$/m, 'appVersion: v1.12.1'));
    const archive = helmPackage(join(work, 'longhorn'), join(repo.root, 'charts'));
    appendFileSync(join(repo.root, 'charts', 'charts.lock.yaml'), lockEntry('longhorn', '1.12.1', 'https://charts.longhorn.io', archive));
    const envFile = join(repo.root, 'environments', 'dev.yaml');
    writeFileSync(envFile, `${readFileSync(envFile, 'utf8')}addons:\n  longhorn:\n    version: 1.12.1\n`);

    const before = readTree(join(repo.root, 'rendered'));
    expect((await render(repo.root)).code).toBe(0);
    const after = readTree(join(repo.root, 'rendered'));
    const changed = [...after.keys()].filter((file) => before.get(file) !== after.get(file));
    expect(changed.length).toBeGreaterThan(5);
    expect(changed.filter((file) => !file.startsWith('dev/longhorn/') && file !== 'dev/README.md')).toEqual([]);
    expect(after.get('dev/longhorn/daemonset_longhorn-system_longhorn-manager.yaml')).toContain('from charts/longhorn-1.12.1.tgz (longhorn/templates/daemonset-sa.yaml)');
    expect(after.get('dev/longhorn/daemonset_longhorn-system_longhorn-manager.yaml')).toContain('app.kubernetes.io/version: v1.12.1');
  });

  it('refuses a tampered archive, naming it, its digest and the lock line, and writes nothing', async () => {
    repo = copyOfRepository();
    const archive = join(repo.root, 'charts', 'tailscale-operator-1.102.2.tgz');
    appendFileSync(archive, Buffer.from('tampered'));
    const before = readTree(join(repo.root, 'rendered'));
    const { code, err } = await render(repo.root);
    expect(code).toBe(1);
    expect(err).toMatch(/^charts\/tailscale-operator-1\.102\.2\.tgz: \(file\): sha256 [0-9a-f]{64} does not match the lock \(charts\/charts\.lock\.yaml:\d+ pins [0-9a-f]{64}\); the archive was changed or replaced$/m);
    expect(err).toContain('fix: restore it (git checkout -- charts/tailscale-operator-1.102.2.tgz) or pull it again from its repository: npm run charts:pull -- tailscale-operator 1.102.2');
    expect(err).toContain('Nothing was written; rendered/ is unchanged.');
    expect(readTree(join(repo.root, 'rendered'))).toEqual(before);
  });

  it('refuses a version the lock does not vendor, at the line of the environment file', async () => {
    repo = copyOfRepository();
    const envFile = join(repo.root, 'environments', 'staging.yaml');
    writeFileSync(envFile, `${readFileSync(envFile, 'utf8')}addons:\n  argocd:\n    version: 9.9.9\n`);
    const { code, err } = await render(repo.root, '--env', 'staging');
    expect(code).toBe(1);
    expect(err).toMatch(/^environments\/staging\.yaml:\d+:\d+: addons\.argocd\.version: chart argo-cd 9\.9\.9 is not vendored in charts\/ \(charts\/charts\.lock\.yaml has 9\.5\.2\)$/m);
    expect(err).toContain('fix: npm run charts:pull -- argo-cd 9.9.9, then render again');
  });
});

describe('a chart that cannot be hydrated as it is', { timeout: TIMEOUT }, () => {
  /** A temp root with one tiny chart vendored under charts/ and its lock. */
  function tinyChart(templates: Record<string, string>): { root: string; request: ChartRequest } {
    const root = tempDir();
    const chart = join(root, 'src', 'tiny');
    mkdirSync(join(chart, 'templates'), { recursive: true });
    writeFileSync(join(chart, 'Chart.yaml'), 'apiVersion: v2\nname: tiny\nversion: 0.1.0\nappVersion: v0.1.0\n');
    for (const [name, text] of Object.entries(templates)) writeFileSync(join(chart, 'templates', name), text);
    mkdirSync(join(root, 'charts'));
    const archive = helmPackage(chart, join(root, 'charts'));
    writeFileSync(join(root, 'charts', 'charts.lock.yaml'), `charts:\n${lockEntry('tiny', '0.1.0', 'https://charts.example.invalid', archive)}`);
    cpSync(join(ROOT, 'environments'), join(root, 'environments'), { recursive: true });
    return {
      root,
      request: {
        folder: 'tiny',
        namespace: 'tiny',
        source: { configKey: 'longhorn', chart: { chart: 'tiny', repoURL: 'https://charts.example.invalid', version: '0.1.0' }, releaseName: 'tiny', values: {}, exceptions: [] },
      },
    };
  }

  const hydrate = (root: string, request: ChartRequest) => new Hydrator({ root, cacheDir: false }).hydrate(loadEnvironment(root, 'dev'), [request]);

  it('is refused when it makes random values at template time, naming the template', async () => {
    const { root, request } = tinyChart({
      'secret.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: random\ndata:\n  token: {{ randAlphaNum 16 | quote }}\n',
      'fixed.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: fixed\ndata:\n  a: b\n',
    });
    const error = await hydrate(root, request).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(HydrationError);
    expect((error as HydrationError).message).toContain('charts/tiny-0.1.0.tgz: tiny/templates/secret.yaml: renders differently each time (random values at template time): tiny/templates/secret.yaml');
  });

  it('is refused when it renders a custom resource whose CRD the environment does not have', async () => {
    const { root, request } = tinyChart({ 'monitor.yaml': 'apiVersion: monitoring.coreos.com/v1\nkind: ServiceMonitor\nmetadata:\n  name: tiny\nspec: {}\n' });
    await expect(hydrate(root, request)).rejects.toThrow(/tiny\/templates\/monitor\.yaml: renders ServiceMonitor tiny \(monitoring\.coreos\.com\/v1\), whose CRD this environment does not render/);
  });

  it('is refused when a policy exception names an object the chart does not render (a stale exception)', async () => {
    const { root, request } = tinyChart({ 'fixed.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: fixed\ndata:\n  a: b\n' });
    request.source.exceptions = [{ kind: 'Deployment', name: 'gone', allow: { 'resource-requests': 'the chart has no resources value for it' } }];
    await expect(hydrate(root, request)).rejects.toThrow('a policy exception (resource-requests) names Deployment gone, which the chart does not render');
  });

  it('gets the release namespace on namespaced objects, keeps cluster-scoped ones without, and drops nulls', async () => {
    const { root, request } = tinyChart({
      'objects.yaml': [
        'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: plain\ndata:\n  gone: null\n  kept: "x"\n',
        '---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: reader\nrules: null\n',
      ].join(''),
    });
    const [folder] = await hydrate(root, request);
    const byKind = new Map(folder!.manifests.map(({ manifest }) => [manifest.kind, manifest]));
    expect(byKind.get('ConfigMap')).toEqual({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'plain', namespace: 'tiny' }, data: { kept: 'x' } });
    expect(byKind.get('ClusterRole')).toEqual({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'reader' } });
  });
});

describe('the one normalisation step', () => {
  it('drops nulls at any depth, as the API server reads them, and counts them', () => {
    const manifest = { spec: { ports: [{ name: 'http', nodePort: null, port: 80 }] }, env: [{ name: 'OPERATOR_LOGIN_SERVER', value: null }], rules: null };
    expect(dropNulls(manifest)).toBe(3);
    expect(manifest).toEqual({ spec: { ports: [{ name: 'http', port: 80 }] }, env: [{ name: 'OPERATOR_LOGIN_SERVER' }] });
  });

  it('matters: the vendored Longhorn chart writes nodePort: null, the committed tree does not', async () => {
    const raw = await runHelm(ensureHelm(), ['template', 'longhorn', join(ROOT, 'charts', 'longhorn-1.12.0.tgz'), '--namespace', 'longhorn-system', '--kube-version', 'v1.36.3'], { timeoutMs: 120_000 });
    expect(raw.stdout).toMatch(/nodePort: null/);
    const committed = readFileSync(join(ROOT, 'rendered', 'dev', 'longhorn', 'service_longhorn-system_longhorn-frontend.yaml'), 'utf8');
    expect(committed).not.toContain('null');
    expect(environment('dev').config.addons.longhorn.version).toBe('1.12.0');
  }, TIMEOUT);
});
