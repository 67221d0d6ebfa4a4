/**
 * The real gates on a copy of the committed tree: one corrupted manifest makes
 * the matching gate fail, with a message naming the file and the field.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Finding } from '../generator/validate/findings.js';
import { GATES, runValidation, type ValidationReport } from '../generator/validate/run-validation.js';
import { corrupt, REPO_ROOT, repositoryCopies } from './helpers/validation.js';

const DEPLOYMENT = 'rendered/dev/open-webui/deployment_open-webui_open-webui.yaml';
const EXTERNAL_SECRET = 'rendered/dev/open-webui/externalsecret_open-webui_open-webui-env.yaml';
const REDIS = 'rendered/dev/redis/deployment_redis_redis.yaml';

const copy = repositoryCopies();

const errorsOf = (report: ValidationReport, gate: Finding['gate']) => report.findings.filter((finding) => finding.gate === gate && finding.severity === 'error');
/** Every gate but the scanners, which have their own suite (test/scanner-gate.test.ts; a run takes a minute). */
const IN_PROCESS_AND_KUBECONFORM = GATES.filter((gate) => gate !== 'scanners');
const WITHOUT_SCANNERS = IN_PROCESS_AND_KUBECONFORM.flatMap((gate) => ['--gate', gate]);
const failed = (report: ValidationReport) => report.gates.filter((gate) => gate.errors > 0).map((gate) => gate.gate).sort();

describe('validation gates on a corrupted copy of rendered/', () => {
  it('an unknown field fails kubeconform and the ajv schema gate, naming the file and the field', async () => {
    const root = copy();
    corrupt(root, DEPLOYMENT, '          imagePullPolicy: IfNotPresent\n          livenessProbe:', '          imagePullPolicy: IfNotPresent\n          imagePullPolicyy: Always\n          livenessProbe:');
    const report = await runValidation({ root, gates: IN_PROCESS_AND_KUBECONFORM });
    expect(report.ok).toBe(false);
    expect(failed(report)).toEqual(['kubeconform', 'schema']);
    for (const gate of ['kubeconform', 'schema'] as const) {
      expect(errorsOf(report, gate)).toEqual([
        expect.objectContaining({ file: DEPLOYMENT, resource: 'Deployment open-webui/open-webui', path: 'spec.template.spec.containers[0].imagePullPolicyy', line: expect.any(Number) }),
      ]);
    }
  }, 240_000);

  it('a missing required field fails both schema gates (core kind and CRD)', async () => {
    const root = copy();
    corrupt(root, DEPLOYMENT, /^ {2}selector:\n {4}matchLabels:\n(?: {6}.*\n)+/m, '');
    corrupt(root, EXTERNAL_SECRET, '      secretKey: webuiSecretKey\n', '');
    const report = await runValidation({ root, gates: ['kubeconform', 'schema'] });
    for (const gate of ['kubeconform', 'schema'] as const) {
      expect(errorsOf(report, gate).map((finding) => `${finding.file} ${finding.path}`).sort()).toEqual([`${DEPLOYMENT} spec.selector`, `${EXTERNAL_SECRET} spec.data[0].secretKey`]);
    }
    expect(errorsOf(report, 'schema').find((finding) => finding.file === DEPLOYMENT)!.message).toBe('missing required field "selector"');
  }, 240_000);

  it('a privileged container fails the policy gate only', async () => {
    const root = copy();
    corrupt(root, REDIS, 'privileged: false', 'privileged: true');
    const report = await runValidation({ root, gates: IN_PROCESS_AND_KUBECONFORM });
    expect(failed(report)).toEqual(['policy']);
    expect(errorsOf(report, 'policy')).toEqual([
      expect.objectContaining({ file: REDIS, resource: 'Deployment redis/redis', path: expect.stringMatching(/^spec\.template\.spec\.(initC|c)ontainers\[0\]\.securityContext\.privileged$/), rule: 'privileged-container' }),
    ]);
  }, 240_000);

  it('a plaintext secret fails the secrets gate: a rendered Secret with data, and a key secretlint recognises', async () => {
    const root = copy();
    const leak = 'rendered/dev/redis/secret_redis_leak.yaml';
    writeFileSync(join(root, leak), 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: leak\n  namespace: redis\nstringData:\n  password: hunter2\n');
    const settings = 'rendered/dev/open-webui/configmap_open-webui_open-webui-settings.yaml';
    // Built at run time so the repository never contains a key-shaped string.
    const awsSecret = ['wJalrXUtnFEMI', 'K7MDENG', 'bPxRfiCYzq9Xk2v7Lp'].join('/');
    corrupt(root, settings, '  VECTOR_DB: pgvector\n', `  VECTOR_DB: pgvector\n  aws_secret_access_key: ${awsSecret}\n`);
    const report = await runValidation({ root, gates: ['secrets'] });
    expect(report.ok).toBe(false);
    const findings = errorsOf(report, 'secrets');
    expect(findings).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ file: leak, path: 'stringData', rule: 'no-rendered-secret-data', resource: 'Secret redis/leak' }),
        expect.objectContaining({ file: settings, line: expect.any(Number), rule: 'dubai-hub/provider-keys', message: expect.stringContaining('found an AWS secret access key (aws-secret-access-key)') }),
      ]),
    );
    expect(JSON.stringify(findings)).not.toContain(awsSecret);
  }, 240_000);

  it('an API removed in the next Kubernetes minor is reported as an upgrade warning, and a missing next minor is said out loud', async () => {
    const root = copy();
    corrupt(root, 'environments/dev.yaml', /version: v1\.36\.\d+\+k3s\d+/, 'version: v1.34.2+k3s1');
    // What the generator renders only from 1.36 on (Longhorn's web-identity MutatingAdmissionPolicy, admissionregistration/v1).
    for (const kind of ['mutatingadmissionpolicy', 'mutatingadmissionpolicybinding']) rmSync(join(root, `rendered/dev/longhorn/${kind}_longhorn-web-identity.yaml`));
    writeFileSync(
      join(root, 'rendered/dev/database/volumeattributesclass_fast.yaml'),
      'apiVersion: storage.k8s.io/v1alpha1\nkind: VolumeAttributesClass\nmetadata:\n  name: fast\ndriverName: driver.longhorn.io\n',
    );
    const report = await runValidation({ root, gates: ['kubeconform', 'schema', 'deprecations'] });
    expect(report.ok).toBe(true);
    expect(report.findings).toEqual([
      expect.objectContaining({ gate: 'deprecations', severity: 'warning', file: 'rendered/dev/database/volumeattributesclass_fast.yaml', path: 'apiVersion', message: expect.stringMatching(/not served by Kubernetes 1\.35/) }),
    ]);
    expect(report.upgrades.find((upgrade) => upgrade.env === 'dev')).toMatchObject({ from: '1.34', to: '1.35', checked: true });
    expect(report.notes).toEqual([expect.stringMatching(/^Kubernetes 1\.37 schemas are not vendored .*prod, staging/)]);
  }, 240_000);
});

describe('files under rendered/ that are not manifests', () => {
  it('README.md and bootstrap/ (CloudFormation) are excluded explicitly; any other stray file is an error', async () => {
    const root = copy();
    mkdirSync(join(root, 'rendered/dev/bootstrap'), { recursive: true });
    writeFileSync(join(root, 'rendered/dev/bootstrap/stack.yaml'), 'AWSTemplateFormatVersion: "2010-09-09"\nResources: {}\n');
    const clean = await runValidation({ root, gates: ['kubeconform', 'schema'] });
    expect(clean.findings).toEqual([]);
    writeFileSync(join(root, 'rendered/dev/redis/notes.txt'), 'not a manifest\n');
    writeFileSync(join(root, 'rendered/dev/redis/stack.yaml'), 'AWSTemplateFormatVersion: "2010-09-09"\nResources: {}\n');
    const stray = await runValidation({ root, gates: ['kubeconform', 'schema'] });
    expect(stray.findings.map((finding) => `${finding.gate} ${finding.file}`)).toEqual(
      expect.arrayContaining(['schema rendered/dev/redis/notes.txt', 'schema rendered/dev/redis/stack.yaml', 'kubeconform rendered/dev/redis/stack.yaml']),
    );
  }, 240_000);
});

describe('npm run validate', () => {
  const validate = (args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'generator/validate/cli.ts'), ...args], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 240_000 });

  it('prints a readable report and a one-line summary, and passes on the committed tree', () => {
    const result = validate(['--root', copy(), ...WITHOUT_SCANNERS]);
    expect(result.stderr).not.toMatch(/error|fail/i);
    expect(result.status).toBe(0);
    for (const gate of ['kubeconform', 'schema', 'policy', 'secrets']) expect(result.stdout).toMatch(new RegExp(`^ {2}(ok|warn) {2,}${gate} `, 'm'));
    // No environment has the next minor's schemas vendored: the upgrade check ran on nothing, so it is "skip", not "ok".
    expect(result.stdout).toMatch(/^ {2}skip {2}deprecations {2}0 of 3 environments checked/m);
    expect(result.stdout).toMatch(/^validate: passed · \d+ resources in 3 environments · 0 errors, 0 warnings · \d+ exceptions · \d+\.\d+ s$/m);
  }, 240_000);

  it('--json prints machine-readable findings and exits 1 when a gate fails', () => {
    const root = copy();
    corrupt(root, REDIS, 'privileged: false', 'privileged: true');
    const result = validate(['--root', root, '--json', ...WITHOUT_SCANNERS]);
    expect(result.status).toBe(1);
    const report = JSON.parse(result.stdout) as ValidationReport;
    expect(report.ok).toBe(false);
    expect(report.findings).toEqual([expect.objectContaining({ gate: 'policy', severity: 'error', file: REDIS, line: expect.any(Number), rule: 'privileged-container' })]);
  }, 240_000);
});
