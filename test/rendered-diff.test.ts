/**
 * `npm run diff`: the summary of how rendered/ differs from a git ref, on real
 * git repositories built in a temporary folder (a commit, then a working tree
 * with resources added, changed, removed, moved and renamed).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { compareRendered, type EnvironmentChange, type ResourceChange } from '../generator/diff/compare.js';
import { COMMENT_MARKER, formatMarkdown, formatText } from '../generator/diff/format.js';
import { headerOnlyChange, parseArchive } from '../generator/diff/chart-headers.js';
import { GitRefError, readTreeAtCommit, resolveCommit } from '../generator/diff/git-tree.js';
import { readTree } from '../generator/write-rendered.js';
import { REPO_ROOT } from './support/temp-repo.js';

let root = '';
afterEach(() => {
  if (root) rmSync(root, { recursive: true, force: true });
  root = '';
});

const git = (...args: string[]) => execFileSync('git', args, { cwd: root, encoding: 'utf8', stdio: 'pipe' });

function repository(files: Record<string, string>): void {
  root = mkdtempSync(join(tmpdir(), 'dubai-hub-diff-'));
  git('init', '-q', '-b', 'main');
  git('config', 'user.email', 'test@example.com');
  git('config', 'user.name', 'test');
  for (const [path, content] of Object.entries(files)) write(path, content);
  git('add', '-A');
  git('-c', 'core.hooksPath=/dev/null', 'commit', '-qm', 'base');
}

function write(path: string, content: string): void {
  mkdirSync(dirname(join(root, path)), { recursive: true });
  writeFileSync(join(root, path), content);
}

function move(from: string, to: string): void {
  mkdirSync(dirname(join(root, to)), { recursive: true });
  renameSync(join(root, from), join(root, to));
}

const manifest = (kind: string, namespace: string, name: string, extra: Record<string, unknown> = {}) =>
  stringify({ apiVersion: kind === 'Deployment' || kind === 'Job' ? (kind === 'Job' ? 'batch/v1' : 'apps/v1') : 'v1', kind, metadata: { name, namespace }, ...extra });

const deployment = (image: string) =>
  manifest('Deployment', 'litellm', 'litellm', {
    spec: { replicas: 1, template: { spec: { containers: [{ name: 'litellm', image, ports: [{ containerPort: 4000 }] }] } } },
  });
const job = (name: string, image: string) =>
  manifest('Job', 'litellm', name, {
    spec: { backoffLimit: 2, template: { spec: { restartPolicy: 'Never', containers: [{ name: 'migrate', image, command: ['litellm', '--skip_server_startup'] }] } } },
  });

function diffAgainst(ref: string) {
  const commit = resolveCommit(root, ref);
  return compareRendered(readTreeAtCommit(root, commit, 'rendered'), readTree(join(root, 'rendered')));
}

const env = (diff: ReturnType<typeof diffAgainst>, name: string): EnvironmentChange => {
  const found = diff.environments.find((entry) => entry.env === name);
  if (!found) throw new Error(`no change reported for ${name}: ${JSON.stringify(diff)}`);
  return found;
};
const changesOf = (environment: EnvironmentChange, folder: string): Pick<ResourceChange, 'change' | 'label'>[] =>
  (environment.folders.find((entry) => entry.folder === folder)?.changes ?? []).map(({ change, label }) => ({ change, label }));

const BASE = {
  'rendered/dev/README.md': '# dev\nlitellm main-v1.85.1\n',
  'rendered/dev/litellm/deployment_litellm_litellm.yaml': deployment('ghcr.io/berriai/litellm-non_root:main-v1.85.1'),
  'rendered/dev/litellm/job_litellm_litellm-migrate-main-v1-85-1.yaml': job('litellm-migrate-main-v1-85-1', 'ghcr.io/berriai/litellm-non_root:main-v1.85.1'),
  'rendered/dev/litellm/service_litellm_litellm.yaml': manifest('Service', 'litellm', 'litellm', { spec: { ports: [{ port: 4000 }] } }),
  'rendered/dev/redis/configmap_redis_redis.yaml': manifest('ConfigMap', 'redis', 'redis', { data: { 'valkey.conf': 'appendonly no\n' } }),
  'rendered/dev/redis/service_redis_redis.yaml': manifest('Service', 'redis', 'redis', { spec: { ports: [{ port: 6379 }] } }),
  'rendered/prod/litellm/deployment_litellm_litellm.yaml': deployment('ghcr.io/berriai/litellm-non_root:main-v1.85.1'),
};

describe('npm run diff: the rendered change per environment, Application folder and resource', () => {
  it('reports added, changed and removed resources, parsed from the YAML rather than file names', () => {
    repository(BASE);
    write('rendered/dev/litellm/deployment_litellm_litellm.yaml', deployment('ghcr.io/berriai/litellm-non_root:main-v1.86.0'));
    rmSync(join(root, 'rendered/dev/litellm/service_litellm_litellm.yaml'));
    // Two resources in one file, with a name that says nothing about them.
    write('rendered/dev/litellm/extra.yaml', `${manifest('ServiceAccount', 'litellm', 'litellm')}---\n${manifest('Secret', 'litellm', 'litellm-extra')}`);

    const diff = diffAgainst('main');
    expect(diff.unchanged).toEqual(['prod']);
    const dev = env(diff, 'dev');
    expect(dev.status).toBe('changed');
    expect(changesOf(dev, 'litellm')).toEqual([
      { change: 'added', label: 'Secret litellm/litellm-extra' },
      { change: 'added', label: 'ServiceAccount litellm/litellm' },
      { change: 'changed', label: 'Deployment litellm/litellm' },
      { change: 'removed', label: 'Service litellm/litellm' },
    ]);
    // What changed inside the resource, as field paths.
    const changed = dev.folders.find((folder) => folder.folder === 'litellm')!.changes.find((change) => change.change === 'changed');
    expect(changed!.fields).toEqual(['spec.template.spec.containers[0].image']);
    const patch = dev.files.find((file) => file.path === 'dev/litellm/deployment_litellm_litellm.yaml');
    expect(patch).toMatchObject({ status: 'modified', additions: 1, deletions: 1 });
    expect(patch!.patch).toContain('-          image: ghcr.io/berriai/litellm-non_root:main-v1.85.1');
    expect(patch!.patch).toContain('+          image: ghcr.io/berriai/litellm-non_root:main-v1.86.0');
  });

  it('detects a resource moved to another Application folder and a file renamed without changes', () => {
    repository(BASE);
    move('rendered/dev/redis/configmap_redis_redis.yaml', 'rendered/dev/cache/configmap_redis_redis.yaml');
    move('rendered/dev/redis/service_redis_redis.yaml', 'rendered/dev/redis/service.yaml');

    const dev = env(diffAgainst('main'), 'dev');
    expect(dev.folders.map(({ folder, status }) => ({ folder, status }))).toEqual([
      { folder: 'cache', status: 'added' },
      { folder: 'redis', status: 'changed' },
    ]);
    expect(dev.folders[0]!.changes).toEqual([
      { change: 'moved', label: 'ConfigMap redis/redis', file: 'cache/configmap_redis_redis.yaml', previousFile: 'redis/configmap_redis_redis.yaml', contentChanged: false },
    ]);
    expect(changesOf(dev, 'redis')).toEqual([
      { change: 'moved', label: 'ConfigMap redis/redis' },
      { change: 'moved', label: 'Service redis/redis' },
    ]);
    expect(dev.files.map(({ status, path, previousPath }) => ({ status, path, previousPath }))).toEqual([
      { status: 'renamed', path: 'dev/cache/configmap_redis_redis.yaml', previousPath: 'dev/redis/configmap_redis_redis.yaml' },
      { status: 'renamed', path: 'dev/redis/service.yaml', previousPath: 'dev/redis/service_redis_redis.yaml' },
    ]);
    expect(dev.files.every((file) => file.additions === 0 && file.deletions === 0)).toBe(true);
  });

  it('pairs a removed and an added resource of the same kind and namespace as a rename when most lines match', () => {
    repository(BASE);
    rmSync(join(root, 'rendered/dev/litellm/job_litellm_litellm-migrate-main-v1-85-1.yaml'));
    write('rendered/dev/litellm/job_litellm_litellm-migrate-main-v1-86-0.yaml', job('litellm-migrate-main-v1-86-0', 'ghcr.io/berriai/litellm-non_root:main-v1.86.0'));
    // A Job in another namespace, or an unrelated one, is not a rename.
    write('rendered/dev/redis/job_redis_flush.yaml', job('flush', 'docker.io/valkey/valkey:8.1.4-alpine').replace('namespace: litellm', 'namespace: redis'));

    const dev = env(diffAgainst('main'), 'dev');
    const renamed = dev.folders.find((folder) => folder.folder === 'litellm')!.changes;
    expect(renamed).toHaveLength(1);
    expect(renamed[0]).toMatchObject({
      change: 'renamed',
      previousLabel: 'Job litellm/litellm-migrate-main-v1-85-1',
      label: 'Job litellm/litellm-migrate-main-v1-86-0',
      contentChanged: true,
    });
    expect(renamed[0]!.similarity).toBeGreaterThan(0.5);
    expect(changesOf(dev, 'redis')).toEqual([{ change: 'added', label: 'Job redis/flush' }]);
    const file = dev.files.find((entry) => entry.status === 'renamed')!;
    expect(file.patch).toContain('--- a/rendered/dev/litellm/job_litellm_litellm-migrate-main-v1-85-1.yaml');
    expect(file.patch).toContain('+++ b/rendered/dev/litellm/job_litellm_litellm-migrate-main-v1-86-0.yaml');
  });

  it('reports environments added and removed, files outside folders, and CloudFormation resources by logical id', () => {
    repository({
      ...BASE,
      'rendered/dev/bootstrap/stack.yaml': stringify({
        AWSTemplateFormatVersion: '2010-09-09',
        Resources: { Node: { Type: 'AWS::EC2::Instance', Properties: { InstanceType: 't3.xlarge' } }, Bucket: { Type: 'AWS::S3::Bucket' } },
      }),
    });
    write(
      'rendered/dev/bootstrap/stack.yaml',
      // Short-form tags parse (with a warning) instead of failing the summary.
      'AWSTemplateFormatVersion: "2010-09-09"\nResources:\n  Node:\n    Type: AWS::EC2::Instance\n    Properties:\n      InstanceType: m6i.large\n      SubnetId: !Ref Subnet\n  Subnet:\n    Type: AWS::EC2::Subnet\n',
    );
    rmSync(join(root, 'rendered/prod'), { recursive: true });
    write('rendered/staging/litellm/deployment_litellm_litellm.yaml', deployment('ghcr.io/berriai/litellm-non_root:main-v1.85.1'));
    write('rendered/dev/README.md', '# dev\nlitellm main-v1.86.0\n');

    const diff = diffAgainst('main');
    expect(diff.environments.map(({ env: name, status }) => ({ name, status }))).toEqual([
      { name: 'dev', status: 'changed' },
      { name: 'prod', status: 'removed' },
      { name: 'staging', status: 'added' },
    ]);
    const dev = env(diff, 'dev');
    expect(changesOf(dev, 'bootstrap')).toEqual([
      { change: 'added', label: 'AWS::EC2::Subnet Subnet' },
      { change: 'changed', label: 'AWS::EC2::Instance Node' },
      { change: 'removed', label: 'AWS::S3::Bucket Bucket' },
    ]);
    expect(changesOf(dev, '.')).toEqual([{ change: 'changed', label: 'README.md' }]);
    expect(changesOf(env(diff, 'prod'), 'litellm')).toEqual([{ change: 'removed', label: 'Deployment litellm/litellm' }]);
  });

  it('refuses an unknown ref with the command that fixes it', () => {
    repository(BASE);
    expect(() => resolveCommit(root, 'origin/main')).toThrow(GitRefError);
    expect(() => resolveCommit(root, 'origin/main')).toThrow(/no such commit.*git fetch origin main/);
    const result = spawnSync(process.execPath, [join(REPO_ROOT, 'generator/launch.mjs'), 'diff/cli', '--root', root, '--base', 'origin/main'], { encoding: 'utf8' });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('diff: --base origin/main: no such commit');
    const badEnv = spawnSync(process.execPath, [join(REPO_ROOT, 'generator/launch.mjs'), 'diff/cli', '--root', root, '--base', 'main', '--env', 'qa'], { encoding: 'utf8' });
    expect(badEnv.status).toBe(2);
    expect(badEnv.stderr).toContain('--env qa: no such environment');
  }, 30_000);
});

describe('the pull-request comment (npm run diff -- --markdown)', () => {
  it('summarises per environment, lists resources per Application and collapses the full diff', () => {
    repository(BASE);
    write('rendered/dev/litellm/deployment_litellm_litellm.yaml', deployment('ghcr.io/berriai/litellm-non_root:main-v1.86.0'));
    const result = spawnSync(process.execPath, [join(REPO_ROOT, 'generator/launch.mjs'), 'diff/cli', '--root', root, '--base', 'main', '--markdown'], { encoding: 'utf8' });
    expect(result.status, result.stderr).toBe(0);
    const body = result.stdout;
    expect(body.startsWith(COMMENT_MARKER)).toBe(true);
    expect(body).toContain('| **dev** (changed) | `litellm` (changed) | 0 | 1 | 0 | 0 |');
    expect(body).toContain('| prod | unchanged | 0 | 0 | 0 | 0 |');
    expect(body).toContain('- changed `Deployment litellm/litellm` in `litellm/deployment_litellm_litellm.yaml`: `spec.template.spec.containers[0].image`\n');
    expect(body).toMatch(/<details><summary>Full diff of dev: 1 file, \+1 −1<\/summary>[\s\S]*```diff\n--- a\/rendered\/dev\/litellm\/deployment_litellm_litellm.yaml[\s\S]*```\n\n<\/details>/);
  }, 30_000);

  it('says so when nothing changed, and stays under --max-chars by shortening the diffs', () => {
    repository(BASE);
    expect(formatMarkdown(diffAgainst('main'), { base: 'main', baseCommit: resolveCommit(root, 'main') })).toContain('No difference in any environment (dev, prod).');

    const big = Array.from({ length: 3000 }, (_, index) => `line-${index}: ${'x'.repeat(40)}`).join('\n');
    write('rendered/dev/redis/configmap_redis_redis.yaml', manifest('ConfigMap', 'redis', 'redis', { data: { 'valkey.conf': big } }));
    const diff = diffAgainst('main');
    const full = formatMarkdown(diff, { base: 'main', baseCommit: resolveCommit(root, 'main') });
    expect(full.length).toBeGreaterThan(100_000);
    const short = formatMarkdown(diff, { base: 'main', baseCommit: resolveCommit(root, 'main') }, { maxChars: 20_000 });
    expect(short.length).toBeLessThanOrEqual(20_000);
    expect(short).toMatch(/… \d+ more lines not shown: run `npm run diff -- --base [0-9a-f]{12} --patch` for the whole diff/);
    expect(short).toContain('</details>');
  });
});

/** Committed files of rendered/<env>/argocd/, keyed for repository(). */
const argocdFiles = (env: string, names: string[]) =>
  Object.fromEntries(names.map((name) => [`rendered/${env}/argocd/${name}`, readFileSync(join(REPO_ROOT, 'rendered', env, 'argocd', name), 'utf8')]));

const CHART_FILES = [
  'configmap_argocd_argocd-gpg-keys-cm.yaml',
  'customresourcedefinition_applicationsets.argoproj.io.yaml',
  'deployment_argocd_argocd-server.yaml',
  'service_argocd_argocd-server.yaml',
  'serviceaccount_argocd_argocd-server.yaml',
];
const CRD = 'customresourcedefinition_applicationsets.argoproj.io.yaml';
/** The digest a bumped chart's image would have (any well-formed digest: the diff only compares text). */
const NEW_DIGEST = `sha256:${'c'.repeat(64)}`;

/**
 * What `npm run render` does to rendered/<env>/argocd/ when the Argo CD chart
 * goes from 9.5.2 to a (simulated) 9.6.0: every header names the new archive,
 * one Deployment gets a new image, the ApplicationSet CRD gains a schema
 * property, one resource goes away and another appears.
 */
function bumpArgoCdChart(env: string): void {
  const path = (name: string) => join(root, 'rendered', env, 'argocd', name);
  for (const name of CHART_FILES) {
    const text = readFileSync(path(name), 'utf8');
    const newline = text.indexOf('\n');
    writeFileSync(path(name), text.slice(0, newline).replace('charts/argo-cd-9.5.2.tgz', 'charts/argo-cd-9.6.0.tgz') + text.slice(newline));
  }
  const deployment = readFileSync(path('deployment_argocd_argocd-server.yaml'), 'utf8');
  expect(deployment).toMatch(/image: quay\.io\/argoproj\/argocd:v3\.3\.7@sha256:[a-f0-9]{64}\n/);
  writeFileSync(path('deployment_argocd_argocd-server.yaml'), deployment.replace(/image: quay\.io\/argoproj\/argocd:v3\.3\.7@sha256:[a-f0-9]{64}\n/, `image: quay.io/argoproj/argocd:v3.4.1@${NEW_DIGEST}\n`));
  const crd = readFileSync(path(CRD), 'utf8');
  const anchor = '            spec:\n              properties:\n';
  expect(crd).toContain(anchor);
  writeFileSync(path(CRD), crd.replace(anchor, `${anchor}                reviewNote:\n                  description: A note for reviewers.\n                  type: string\n`));
  rmSync(path('configmap_argocd_argocd-gpg-keys-cm.yaml'));
  const account = readFileSync(path('serviceaccount_argocd_argocd-server.yaml'), 'utf8');
  write(
    `rendered/${env}/argocd/networkpolicy_argocd_allow-metrics.yaml`,
    account.split('\n')[0]!.replace('argocd-server/serviceaccount.yaml', 'networkpolicy.yaml') +
      '\n' +
      stringify({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'allow-metrics', namespace: 'argocd' }, spec: { podSelector: {}, policyTypes: ['Ingress'] } }),
  );
}

describe('a chart bump in npm run diff and the pull-request comment', () => {
  const files = () => ({ ...argocdFiles('dev', CHART_FILES), ...argocdFiles('prod', CHART_FILES) });

  it('names the chart versions, lists resources and changed fields, leaves header-only files out and groups the CRD change', () => {
    repository(files());
    bumpArgoCdChart('dev');
    const diff = diffAgainst('main');
    expect(diff.unchanged).toEqual(['prod']);
    const dev = env(diff, 'dev');
    expect(dev.charts).toEqual([
      {
        folder: 'argocd',
        before: [{ archive: 'argo-cd-9.5.2.tgz', chart: 'argo-cd', version: '9.5.2' }],
        after: [{ archive: 'argo-cd-9.6.0.tgz', chart: 'argo-cd', version: '9.6.0' }],
      },
    ]);
    // The Service and ServiceAccount changed in their header only: no resource change, one file change each.
    expect(changesOf(dev, 'argocd')).toEqual([
      { change: 'added', label: 'NetworkPolicy argocd/allow-metrics' },
      { change: 'changed', label: 'CustomResourceDefinition applicationsets.argoproj.io' },
      { change: 'changed', label: 'Deployment argocd/argocd-server' },
      { change: 'removed', label: 'ConfigMap argocd/argocd-gpg-keys-cm' },
    ]);
    expect(dev.files.filter((file) => file.headerOnly).map((file) => file.path)).toEqual([
      'dev/argocd/service_argocd_argocd-server.yaml',
      'dev/argocd/serviceaccount_argocd_argocd-server.yaml',
    ]);

    const commit = resolveCommit(root, 'main');
    expect(formatText(diff, { base: 'main', baseCommit: commit }).split('\n')).toEqual([
      `rendered/ in the working tree compared with main (${commit.slice(0, 12)}):`,
      'dev: changed — 1 added, 2 changed, 0 moved or renamed, 1 removed',
      '  Charts: argocd argo-cd 9.5.2 → 9.6.0',
      '  argocd (changed)',
      '    + added NetworkPolicy argocd/allow-metrics in argocd/networkpolicy_argocd_allow-metrics.yaml',
      '    ~ changed Deployment argocd/argocd-server in argocd/deployment_argocd_argocd-server.yaml: spec.template.spec.containers[0].image',
      '        spec.template.spec.containers[0].image: quay.io/argoproj/argocd:v3.3.7@sha256:31f494ef5ad17b8dfd4e03fbae79c57cfadede325… → quay.io/argoproj/argocd:v3.4.1@sha256:ccccccccccccccccccccccccccccccccccccccccc…',
      '    - removed ConfigMap argocd/argocd-gpg-keys-cm was in argocd/configmap_argocd_argocd-gpg-keys-cm.yaml',
      '  ~ CRDs: 1 changed — applicationsets.argoproj.io: 1 field (schema)',
      '      applicationsets.argoproj.io schema: v1alpha1: added spec.reviewNote',
      '  2 files changed only in the generated header (argocd 2): no resource change',
      'unchanged: prod',
      '',
    ]);
  });

  it('keeps schema text and header-only diffs out of the comment, and an environment with the same change points to the first', () => {
    repository(files());
    bumpArgoCdChart('dev');
    bumpArgoCdChart('prod');
    const result = spawnSync(process.execPath, [join(REPO_ROOT, 'generator/launch.mjs'), 'diff/cli', '--root', root, '--base', 'main', '--markdown', '--max-chars', '60000'], {
      encoding: 'utf8',
    });
    expect(result.status, result.stderr).toBe(0);
    const body = result.stdout;
    const base = resolveCommit(root, 'main').slice(0, 12);
    expect(body.length).toBeLessThanOrEqual(60_000);
    const dev = body.slice(body.indexOf('#### dev'), body.indexOf('<details>'));
    expect(dev.split('\n')).toEqual([
      '#### dev',
      '',
      'Charts: `argocd` argo-cd 9.5.2 → 9.6.0',
      '',
      '**`argocd`** (changed)',
      '',
      '- added `NetworkPolicy argocd/allow-metrics` in `argocd/networkpolicy_argocd_allow-metrics.yaml`',
      '- changed `Deployment argocd/argocd-server` in `argocd/deployment_argocd_argocd-server.yaml`: `spec.template.spec.containers[0].image`',
      '  - `spec.template.spec.containers[0].image`: `quay.io/argoproj/argocd:v3.3.7@sha256:31f494ef5ad17b8dfd4e03fbae79c57cfadede325…` → `quay.io/argoproj/argocd:v3.4.1@sha256:ccccccccccccccccccccccccccccccccccccccccc…`',
      '- removed `ConfigMap argocd/argocd-gpg-keys-cm` was in `argocd/configmap_argocd_argocd-gpg-keys-cm.yaml`',
      '',
      '- CRDs: 1 changed — `applicationsets.argoproj.io`: 1 field (schema)',
      '  - `applicationsets.argoproj.io` schema: v1alpha1: added `spec.reviewNote`',
      '',
      '- 2 files changed only in the generated header (`argocd` 2): no resource change',
      '',
      '',
    ]);
    expect(body).toContain(`#### prod\n\nSame changes as **dev**.\n\nFull diff: \`git diff ${base} -- rendered/prod/\`\n`);
    expect(body).not.toContain('Full diff of prod');
    expect(body).toContain(
      `- modified dev/argocd/${CRD} (+4 −1): CRD schema, not shown (\`git diff ${base} -- rendered/dev/argocd/${CRD}\`)`,
    );
    expect(body).toContain('- 2 files with only the generated header changed, not shown');
    expect(body).toContain(`Full diff: \`git diff ${base} -- rendered/dev/\``);
    // The Deployment's diff is shown without its header lines and with the file's line numbers; no schema text and no header-only file is.
    expect(body).toContain(`+          image: quay.io/argoproj/argocd:v3.4.1@${NEW_DIGEST}`);
    const deployment = env(diffAgainst('main'), 'dev').files.find((file) => file.path === 'dev/argocd/deployment_argocd_argocd-server.yaml')!;
    const hunks = deployment.patch.split('\n').filter((line) => line.startsWith('@@'));
    expect(hunks).toEqual(['@@ -1,4 +1,4 @@', expect.stringMatching(/^@@ -3\d\d,7 \+3\d\d,7 @@$/)]);
    expect(body).toContain(`+++ b/rendered/dev/argocd/deployment_argocd_argocd-server.yaml\n(generated header changed, not shown)\n${hunks[1]}\n`);
    expect(body).not.toContain('charts/argo-cd-9.6.0.tgz (argo-cd/templates/argocd-server/deployment.yaml)');
    expect(body).not.toMatch(/openAPIV3Schema|reviewNote:|A note for reviewers/);
    expect(body).not.toContain('rendered/dev/argocd/serviceaccount_argocd_argocd-server.yaml');
    // prod's diff is not repeated.
    expect(body.match(/```diff/g)).toHaveLength(1);
  }, 30_000);

  it('shows a bounded number of value lines, lists a field changed the same way in many resources once, and stays under --max-chars', () => {
    const configMap = (name: string, data: Record<string, string>) => manifest('ConfigMap', 'argocd', name, { metadata: { name, namespace: 'argocd', labels: { 'helm.sh/chart': 'argo-cd-9.5.2' } }, data });
    const names = Array.from({ length: 400 }, (_, index) => `cm-${String(index).padStart(3, '0')}`);
    repository(Object.fromEntries(names.map((name) => [`rendered/dev/argocd/configmap_argocd_${name}.yaml`, configMap(name, { a: '1', b: '1', c: '1', d: '1', e: '1' })])));
    for (const name of names) {
      const data = name === 'cm-000' ? { a: '2', b: '2', c: '2', d: '2', e: '2' } : { a: '1', b: '1', c: '1', d: '1', e: name };
      write(`rendered/dev/argocd/configmap_argocd_${name}.yaml`, configMap(name, data).replace('argo-cd-9.5.2', 'argo-cd-9.6.0'));
    }
    const diff = diffAgainst('main');
    const context = { base: 'main', baseCommit: resolveCommit(root, 'main') };
    const text = formatText(diff, context).split('\n');
    expect(text.slice(3, 7)).toEqual([
      '    ~ changed the same way in several resources:',
      '        metadata.labels.helm.sh/chart: argo-cd-9.5.2 → argo-cd-9.6.0 (400 resources)',
      '    ~ changed ConfigMap argocd/cm-000 in argocd/configmap_argocd_cm-000.yaml: data.a, data.b, data.c, 2 more, the fields above',
      '        data.a: 1 → 2',
    ]);
    expect(text.slice(7, 10)).toEqual(['        data.b: 1 → 2', '        data.c: 1 → 2', '        2 more fields: npm run diff -- --patch']);
    expect(text[10]).toBe('    ~ changed ConfigMap argocd/cm-001 in argocd/configmap_argocd_cm-001.yaml: data.e, the fields above');

    const full = formatMarkdown(diff, context);
    expect(full.length).toBeGreaterThan(60_000);
    expect(full).toContain('  - 2 more fields: `npm run diff -- --patch`\n');
    const short = formatMarkdown(diff, context, { maxChars: 20_000 });
    expect(short.length).toBeLessThanOrEqual(20_000);
    expect(short).toMatch(/… \d+ more summary lines not shown: run `npm run diff -- --base [0-9a-f]{12}` for all of them/);
    expect(short).toContain(`Full diff: \`git diff ${context.baseCommit.slice(0, 12)} -- rendered/dev/\``);
    expect(short).not.toContain('<details>');
  });

  it('reads chart names and versions the way helm package names archives, and groups added and removed CRDs', () => {
    expect(['argo-cd-9.5.2.tgz', 'cert-manager-v1.19.1.tgz', 'tailscale-operator-1.102.2.tgz'].map(parseArchive)).toEqual([
      { archive: 'argo-cd-9.5.2.tgz', chart: 'argo-cd', version: '9.5.2' },
      { archive: 'cert-manager-v1.19.1.tgz', chart: 'cert-manager', version: 'v1.19.1' },
      { archive: 'tailscale-operator-1.102.2.tgz', chart: 'tailscale-operator', version: '1.102.2' },
    ]);
    expect(headerOnlyChange('# from charts/a-1.tgz\nkind: X\n', '# from charts/a-2.tgz\nkind: X\n')).toBe(true);
    expect(headerOnlyChange('# from charts/a-1.tgz\nkind: X\n', '# from charts/a-2.tgz\nkind: Y\n')).toBe(false);
    const crd = (name: string, archive: string) =>
      `# Generated by \`npm run render\` from charts/${archive} (x/templates/crd.yaml) with values from environments/dev.yaml.\n` +
      stringify({ apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name }, spec: { group: 'example.io', versions: [] } });
    const before = new Map([
      ['dev/longhorn/customresourcedefinition_engines.longhorn.io.yaml', crd('engines.longhorn.io', 'longhorn-1.12.0.tgz')],
      ['dev/longhorn/customresourcedefinition_nodes.longhorn.io.yaml', crd('nodes.longhorn.io', 'longhorn-1.12.0.tgz')],
    ]);
    const after = new Map([
      ['dev/longhorn/customresourcedefinition_nodes.longhorn.io.yaml', crd('nodes.longhorn.io', 'longhorn-1.13.0.tgz')],
      ['dev/longhorn/customresourcedefinition_backupbackingimages.longhorn.io.yaml', crd('backupbackingimages.longhorn.io', 'longhorn-1.13.0.tgz')],
    ]);
    const text = formatText(compareRendered(before, after), { base: 'main', baseCommit: '0123456789abcdef' }).split('\n');
    expect(text.slice(1)).toEqual([
      'dev: changed — 1 added, 0 changed, 0 moved or renamed, 1 removed',
      '  Charts: longhorn longhorn 1.12.0 → 1.13.0',
      '  ~ CRDs: 1 added, 1 removed — added backupbackingimages.longhorn.io, removed engines.longhorn.io',
      '  1 file changed only in the generated header (longhorn 1): no resource change',
      '',
    ]);
  });

  it('refuses a base that names no commit, before reading anything', () => {
    repository(files());
    const result = spawnSync(process.execPath, [join(REPO_ROOT, 'generator/launch.mjs'), 'diff/cli', '--root', root, '--base', 'argo-cd-9.5.2', '--markdown'], { encoding: 'utf8' });
    expect(result.status).toBe(2);
    expect(result.stderr).toBe(`diff: --base argo-cd-9.5.2: no such commit in ${root}; check the name (git branch -a, git log), or pass another --base\n`);
    expect(result.stdout).toBe('');
  }, 30_000);
});

describe('npm run diff on the real repository', () => {
  it('shows what bumping the LiteLLM tag in environments/dev.yaml does to the real rendered tree', () => {
    root = mkdtempSync(join(tmpdir(), 'dubai-hub-diff-real-'));
    for (const path of ['environments', 'charts', 'rendered']) cpSync(join(REPO_ROOT, path), join(root, path), { recursive: true });
    git('init', '-q', '-b', 'main');
    git('config', 'user.email', 'test@example.com');
    git('config', 'user.name', 'test');
    git('add', '-A');
    git('-c', 'core.hooksPath=/dev/null', 'commit', '-qm', 'base');

    const config = join(root, 'environments/dev.yaml');
    const before = readFileSync(config, 'utf8');
    const tag = /litellm:\n\s+image:\n(?:\s+repository: \S+\n)?\s+tag: (\S+)/.exec(before)![1]!;
    writeFileSync(config, before.replace(`tag: ${tag}`, 'tag: main-v9.9.9'));
    execFileSync(process.execPath, [join(REPO_ROOT, 'generator/launch.mjs'), 'cli', '--root', root, '--env', 'dev'], { stdio: 'pipe' });

    const diff = diffAgainst('main');
    expect(diff.unchanged).toEqual(['prod', 'staging']);
    const litellm = env(diff, 'dev').folders.find((folder) => folder.folder === 'litellm')!;
    const slug = tag.replace(/\./g, '-');
    expect(litellm.changes).toContainEqual(expect.objectContaining({ change: 'changed', label: 'Deployment litellm/litellm' }));
    expect(litellm.changes).toContainEqual(
      expect.objectContaining({ change: 'renamed', previousLabel: `Job litellm/litellm-migrate-${slug}`, label: 'Job litellm/litellm-migrate-main-v9-9-9' }),
    );
    expect(env(diff, 'dev').folders.map((folder) => folder.folder)).not.toContain('open-webui');
  }, 60_000);
});
