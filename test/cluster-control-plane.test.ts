/**
 * The cluster test proves it can fail. Against a real control plane
 * (scripts/cluster/): canaries the API server must refuse, each with its own
 * message next to the accepted original; the rendered Longhorn web-identity
 * MutatingAdmissionPolicy mutating exactly the pods it is for; and the whole
 * harness run on a broken copy of an environment, which must report each kind
 * of failure.
 *
 * CRDs come from rendered/<env>/ only (the hydrated charts' output).
 * Skips, saying why, only when the binaries cannot be built (no Go).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { readRenderedInputs, type Manifest } from '../generator/validate/manifests.js';
import { controlPlaneUnavailable, ensureControlPlane } from '../scripts/cluster/binaries.js';
import { ControlPlane } from '../scripts/cluster/control-plane.js';
import { planEnvironment } from '../scripts/cluster/plan.js';
import { applyFoundation, runEnvironment } from '../scripts/cluster/run-environment.js';
import { waitFor } from '../scripts/cluster/processes.js';
import { loadEnvironment } from '../generator/config/load-environment.js';
import { useControlPlane } from './support/control-plane-suite.js';
import { copyOfRepository, REPO_ROOT } from './support/temp-repo.js';

const ENV = 'dev';
const BUILD_TIMEOUT_MS = 60 * 60_000;
const RUN_TIMEOUT_MS = 10 * 60_000;

const unavailable = controlPlaneUnavailable();
if (unavailable) process.stdout.write(`cluster-control-plane.test.ts skipped: ${unavailable}\n`);

const input = readRenderedInputs(REPO_ROOT, [ENV])[0]!;
const rendered = (file: string) => parse(readFileSync(join(REPO_ROOT, 'rendered', ENV, file), 'utf8')) as Manifest;

function restrictedPod(name: string, namespace: string, privileged: boolean): Manifest {
  const container = privileged
    ? { name: 'app', image: 'registry.example/canary:1', securityContext: { privileged: true, capabilities: { drop: ['ALL'] } } }
    : { name: 'app', image: 'registry.example/canary:1', securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } } };
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace }, spec: { securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } }, containers: [container] } };
}

function renamed(object: Manifest, name: string, change: (spec: Record<string, unknown>) => void): Manifest {
  const copy = structuredClone(object);
  copy.metadata = { ...copy.metadata, name };
  change(copy.spec as Record<string, unknown>);
  return copy;
}

describe.skipIf(unavailable)('cluster test: canaries the control plane refuses with its own message', () => {
  const plane = useControlPlane(input, 'cluster-canaries');

  const create = (object: Manifest) => plane.current.kubectl.run(['create', '-f', '-'], JSON.stringify(object));

  it('refuses a privileged Pod in a restricted namespace (PodSecurity), and admits the compliant one', async () => {
    const namespace = rendered('litellm/namespace_litellm.yaml');
    expect(namespace.metadata?.labels?.['pod-security.kubernetes.io/enforce']).toBe('restricted');
    const refused = await create(restrictedPod('canary-privileged', 'litellm', true));
    expect(refused.ok).toBe(false);
    expect(refused.stderr).toMatch(/pods "canary-privileged" is forbidden: violates PodSecurity "restricted:v1\.36": privileged \(container "app" must not set securityContext\.privileged=true\)/);
    const admitted = await create(restrictedPod('canary-compliant', 'litellm', false));
    expect(admitted.stderr).toBe('');
    expect(admitted.ok).toBe(true);
  }, RUN_TIMEOUT_MS);

  it("refuses a privileged Pod in a namespace without Pod Security labels, by the node's cluster-wide default (baseline)", async () => {
    const refused = await create(restrictedPod('canary-default-level', 'default', true));
    expect(refused.ok).toBe(false);
    expect(refused.stderr).toMatch(/pods "canary-default-level" is forbidden: violates PodSecurity "baseline:latest": privileged \(container "app" must not set securityContext\.privileged=true\)/);
  }, RUN_TIMEOUT_MS);

  it('refuses a RecurringJob with a task Longhorn does not have (CRD enum), and accepts the rendered one', async () => {
    const job = rendered('longhorn-backups/recurringjob_longhorn-system_backup.yaml');
    const refused = await create(renamed(job, 'canary-defragment', (spec) => (spec.task = 'defragment')));
    expect(refused.ok).toBe(false);
    expect(refused.stderr).toMatch(/The RecurringJob "canary-defragment" is invalid: spec\.task: Unsupported value: "defragment": supported values: .*"backup"/);
    expect((await create(job)).ok).toBe(true);
  }, RUN_TIMEOUT_MS);

  it('refuses an ExternalSecret whose store reference names a kind External Secrets does not have, and accepts the rendered one', async () => {
    const secret = rendered('litellm/externalsecret_litellm_litellm-env.yaml');
    const refused = await create(renamed(secret, 'canary-store-kind', (spec) => ((spec.secretStoreRef as Record<string, unknown>).kind = 'VaultStore')));
    expect(refused.ok).toBe(false);
    expect(refused.stderr).toMatch(/The ExternalSecret "canary-store-kind" is invalid: spec\.secretStoreRef\.kind: Unsupported value: "VaultStore": supported values: "SecretStore", "ClusterSecretStore"/);
    expect((await create(secret)).ok).toBe(true);
  }, RUN_TIMEOUT_MS);
});

interface AdmittedPod {
  metadata: { name: string; namespace: string };
  spec: { volumes?: { name: string; projected?: { sources: { serviceAccountToken?: Record<string, unknown> }[] } }[]; containers: { name: string; env?: { name: string; value: string }[]; volumeMounts?: { mountPath: string }[] }[] };
}

/** A pod shaped like the ones longhorn-manager creates (labels, service account, no token volume). */
function longhornPod(name: string, namespace: string, labels: Record<string, string>, serviceAccountName: string, volumes: Manifest[] = []): Manifest {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace, labels },
    spec: {
      serviceAccountName,
      restartPolicy: 'Never',
      ...(volumes.length ? { volumes } : {}),
      containers: [
        { name: 'main', image: 'registry.example/longhorn:1', env: [{ name: 'TLS_DIR', value: '/tls-files/' }], securityContext: { allowPrivilegeEscalation: false } },
        { name: 'sidecar', image: 'registry.example/longhorn:1' },
      ],
    },
  };
}

const WEB_IDENTITY_DIR = '/var/run/secrets/sts.amazonaws.com/serviceaccount';
const stsTokens = (pod: AdmittedPod) => (pod.spec.volumes ?? []).flatMap((volume) => (volume.projected?.sources ?? []).filter((source) => source.serviceAccountToken?.['audience'] === 'sts.amazonaws.com').map(() => volume.name));
const roleOf = (pod: AdmittedPod) => pod.spec.containers.map((container) => container.env?.find((variable) => variable.name === 'AWS_ROLE_ARN')?.value);
const mountsOf = (pod: AdmittedPod) => pod.spec.containers.map((container) => (container.volumeMounts ?? []).some((mount) => mount.mountPath === WEB_IDENTITY_DIR));

describe.skipIf(unavailable)('cluster test: the Longhorn web-identity MutatingAdmissionPolicy', () => {
  let controlPlane: ControlPlane | undefined;
  let dir: string;
  const roleArn = loadEnvironment(REPO_ROOT, ENV).outputs.roles.longhorn;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cluster-longhorn-identity-'));
    controlPlane = new ControlPlane({ binaries: ensureControlPlane(input.kubernetes.minor), root: REPO_ROOT, dir });
    await controlPlane.start();
    const kubectl = controlPlane.kubectl;
    for (const file of ['longhorn/namespace_longhorn-system.yaml', 'longhorn/serviceaccount_longhorn-system_longhorn-service-account.yaml', 'longhorn/mutatingadmissionpolicy_longhorn-web-identity.yaml', 'longhorn/mutatingadmissionpolicybinding_longhorn-web-identity.yaml']) {
      const applied = await kubectl.run(['apply', '-f', join(REPO_ROOT, 'rendered', ENV, file)]);
      expect(applied.stderr, file).toBe('');
    }
    // The same service account name in another namespace.
    const other = await kubectl.run(['create', 'serviceaccount', '-n', 'default', 'longhorn-service-account']);
    expect(other.stderr).toBe('');
  }, BUILD_TIMEOUT_MS);

  afterAll(async () => {
    await controlPlane?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, RUN_TIMEOUT_MS);

  const admit = async (pod: Manifest): Promise<AdmittedPod> => {
    const result = await controlPlane!.kubectl.run(['create', '-o', 'json', '-f', '-'], JSON.stringify(pod));
    if (!result.ok) throw new Error(`pod ${pod.metadata?.name} refused: ${result.stderr}`);
    return JSON.parse(result.stdout) as AdmittedPod;
  };

  it('gives an instance-manager pod and a longhorn-manager pod the STS token, its mount and the role in every container, and leaves the other pods alone', async () => {
    // The API server loads a new policy a moment after it is stored: dry runs until it mutates.
    const instanceManagerLabels = { 'longhorn.io/component': 'instance-manager', 'longhorn.io/managed-by': 'longhorn-manager' };
    await waitFor('the policy to mutate an instance-manager pod', 120_000, async () => {
      const result = await controlPlane!.kubectl.run(['create', '--dry-run=server', '-o', 'json', '-f', '-'], JSON.stringify(longhornPod('probe', 'longhorn-system', instanceManagerLabels, 'longhorn-service-account')));
      return result.ok && result.stdout.includes('AWS_ROLE_ARN') ? true : undefined;
    }, { stepMs: 2000 });

    const instanceManager = await admit(longhornPod('instance-manager-0123', 'longhorn-system', instanceManagerLabels, 'longhorn-service-account'));
    expect(stsTokens(instanceManager)).toEqual(['aws-web-identity']);
    expect(instanceManager.spec.volumes!.find((volume) => volume.name === 'aws-web-identity')!.projected!.sources).toEqual([{ serviceAccountToken: { audience: 'sts.amazonaws.com', expirationSeconds: 3600, path: 'token' } }]);
    expect(roleOf(instanceManager)).toEqual([roleArn, roleArn]);
    expect(mountsOf(instanceManager)).toEqual([true, true]);
    const variables = instanceManager.spec.containers[0]!.env!.map((variable) => variable.name);
    expect(variables).toEqual(['TLS_DIR', 'AWS_ROLE_ARN', 'AWS_WEB_IDENTITY_TOKEN_FILE', 'AWS_REGION', 'AWS_DEFAULT_REGION', 'AWS_STS_REGIONAL_ENDPOINTS']);
    expect(instanceManager.spec.containers[0]!.env).toContainEqual({ name: 'AWS_WEB_IDENTITY_TOKEN_FILE', value: `${WEB_IDENTITY_DIR}/token` });

    const manager = await admit(longhornPod('longhorn-manager-abcde', 'longhorn-system', { app: 'longhorn-manager' }, 'longhorn-service-account'));
    expect([stsTokens(manager), roleOf(manager)]).toEqual([['aws-web-identity'], [roleArn, roleArn]]);

    // Same account, another Longhorn pod; same labels and account name, another namespace: untouched.
    const ui = await admit(longhornPod('longhorn-ui-abcde', 'longhorn-system', { app: 'longhorn-ui' }, 'longhorn-service-account'));
    const elsewhere = await admit(longhornPod('instance-manager-elsewhere', 'default', instanceManagerLabels, 'longhorn-service-account'));
    for (const pod of [ui, elsewhere]) expect([pod.metadata.name, stsTokens(pod), roleOf(pod), mountsOf(pod)]).toEqual([pod.metadata.name, [], [undefined, undefined], [false, false]]);

    // A pod that already has the token volume is not patched again (the volume name would be a duplicate).
    const own = { name: 'aws-web-identity', projected: { sources: [{ serviceAccountToken: { audience: 'sts.amazonaws.com', expirationSeconds: 3600, path: 'token' } }] } } as unknown as Manifest;
    const already = await admit(longhornPod('instance-manager-has-it', 'longhorn-system', instanceManagerLabels, 'longhorn-service-account', [own]));
    expect([stsTokens(already), roleOf(already)]).toEqual([['aws-web-identity'], [undefined, undefined]]);
  }, RUN_TIMEOUT_MS);
});

describe.skipIf(unavailable)('cluster test: a broken environment fails with each problem named', () => {
  const repo = copyOfRepository();
  afterAll(() => repo.cleanup());

  it('reports an unowned file, a refused resource, an admission warning and a Pod PodSecurity refused, and admits the privileged DaemonSet where it may run', async () => {
    repo.write('bootstrap/node/user-data.sh', readFileSync(join(REPO_ROOT, 'bootstrap', 'node', 'user-data.sh'), 'utf8'));
    const deployment = rendered('litellm/deployment_litellm_litellm.yaml');
    const container = ((deployment.spec as { template: { spec: { containers: { securityContext: Record<string, unknown> }[] } } }).template.spec.containers[0])!;
    container.securityContext = { ...container.securityContext, privileged: true };
    delete container.securityContext.allowPrivilegeEscalation;
    repo.write(`rendered/${ENV}/litellm/deployment_litellm_litellm.yaml`, stringify(deployment));
    repo.write(`rendered/${ENV}/litellm/configmap_litellm_bad.yaml`, stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'Bad_Name', namespace: 'litellm' }, data: {} }));
    // A DaemonSet in the privileged Longhorn namespace: the test Node makes its controller create a Pod.
    const daemonSet = { apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name: 'node-agent', namespace: 'longhorn-system' }, spec: { selector: { matchLabels: { app: 'node-agent' } }, template: { metadata: { labels: { app: 'node-agent' } }, spec: { containers: [{ name: 'agent', image: 'registry.example/agent:1', securityContext: { privileged: true } }] } } } };
    repo.write(`rendered/${ENV}/longhorn/daemonset_longhorn-system_node-agent.yaml`, stringify(daemonSet));
    repo.write(`rendered/${ENV}/stray/configmap_litellm_stray.yaml`, stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'stray', namespace: 'litellm' }, data: {} }));
    const work = mkdtempSync(join(tmpdir(), 'cluster-broken-'));
    try {
      const report = await runEnvironment({
        root: repo.root,
        input: readRenderedInputs(repo.root, [ENV])[0]!,
        binaries: ensureControlPlane(input.kubernetes.minor),
        extraCrds: [],
        workDir: work,
        log: () => {},
      });
      const failures = report.failures.join('\n');
      expect(failures).toMatch(/rendered\/dev\/stray\/configmap_litellm_stray\.yaml: ConfigMap litellm\/stray: no Application's folder holds this file/);
      expect(failures).toMatch(/rendered\/dev\/litellm\/configmap_litellm_bad\.yaml: ConfigMap litellm\/Bad_Name: refused by the API server \(client-side apply\):\s+.*metadata\.name: Invalid value: "Bad_Name"/);
      expect(failures).toMatch(/rendered\/dev\/litellm\/deployment_litellm_litellm\.yaml: Deployment litellm\/litellm: admission warning: would violate PodSecurity "restricted:v1\.36": privileged/);
      expect(failures).toMatch(/Deployment litellm\/litellm: a Pod was refused: .*violates PodSecurity "restricted:v1\.36": privileged/);
      expect(report.failures).toHaveLength(4);
      expect(report.workloads.filter((workload) => !workload.ok).map((workload) => workload.name)).toEqual(['litellm']);
      expect(report.workloads.find((workload) => workload.name === 'node-agent')).toMatchObject({ kind: 'DaemonSet', expected: 1, ok: true, pods: [expect.stringMatching(/^node-agent-/)] });
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }, RUN_TIMEOUT_MS);
});

describe.skipIf(unavailable)('cluster test: a control plane that does not come up', () => {
  it('is one failure naming the component that died and where its log is, and nothing is left running', async () => {
    const work = mkdtempSync(join(tmpdir(), 'cluster-dead-'));
    try {
      const binaries = { ...ensureControlPlane(input.kubernetes.minor), 'kube-apiserver': '/bin/false' };
      const report = await runEnvironment({ root: REPO_ROOT, input, binaries, extraCrds: [], workDir: work, log: () => {} });
      const dead = report.failures.filter((failure) => failure.startsWith('control plane: '));
      expect(dead).toHaveLength(1);
      expect(dead[0]).toMatch(/kube-apiserver \/readyz: kube-apiserver \(PID \d+\) exited with 1; see .*kube-apiserver\.log/);
      expect(report.outcomes).toEqual([]);
      expect(report.processes.map((started) => started.name)).toEqual(['etcd', 'kube-apiserver']);
      for (const { pid } of report.processes) expect(() => process.kill(pid, 0)).toThrow(/ESRCH/);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }, RUN_TIMEOUT_MS);
});
