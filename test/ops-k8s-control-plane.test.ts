/**
 * restore-volume, rotate and doctor against the real control plane of the
 * cluster test (etcd, kube-apiserver, kube-controller-manager on 127.0.0.1),
 * with every CRD and Namespace of rendered/dev applied, then dev's Argo CD
 * Applications and the open-webui, litellm and redis folders. AWS (Secrets
 * Manager, S3) is moto_server on 127.0.0.1.
 *
 * No Argo CD, External Secrets or Longhorn controller runs here: where a verb
 * waits for one, the test does that controller's visible part on the API
 * (ESO: Ready and refreshTime after the force-sync annotation; Longhorn: a
 * restored Volume's status), through the status subresource as they would.
 * Deployments, ReplicaSets, the PV binder and PVC protection are the real
 * kube-controller-manager. Skips, saying why, only when the binaries cannot
 * be built (no Go).
 */
import { CreateBucketCommand, DeleteObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { CreateSecretCommand, GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { awsClients, type AwsClients } from '../bootstrap/lib/aws-clients.js';
import { loadConfig } from '../bootstrap/lib/environment.js';
import { bucketName, ETCD_SNAPSHOT_FOLDER } from '../bootstrap/names.js';
import { ensureHelm, runHelm } from '../generator/charts/helm.js';
import { readRenderedInputs } from '../generator/validate/manifests.js';
import { KubeClient, RESOURCES, type KubeObject } from '../ops/kube.js';
import { EXIT, executePlan, type RunOptions } from '../ops/plan.js';
import type { VerbContext } from '../ops/verb.js';
import { runDoctor } from '../ops/verbs/doctor.js';
import { restoreVolumePlan } from '../ops/verbs/restore-volume.js';
import { FORCE_SYNC_ANNOTATION, RESTARTED_AT_ANNOTATION, rotatePlan } from '../ops/verbs/rotate.js';
import { controlPlaneUnavailable, ensureControlPlane } from '../scripts/cluster/binaries.js';
import { ControlPlane } from '../scripts/cluster/control-plane.js';
import { planEnvironment } from '../scripts/cluster/plan.js';
import { applyFoundation, TEST_NODE } from '../scripts/cluster/run-environment.js';
import { startMoto, type MotoServer } from './support/moto-server.js';
import { REPO_ROOT } from './support/temp-repo.js';

const ENV = 'dev';
const BUILD_TIMEOUT_MS = 60 * 60_000;
const RUN_TIMEOUT_MS = 10 * 60_000;
/** How long the verbs wait for each object here (busy machine: generous). */
const WAIT_MS = 180_000;
const LONGHORN = 'longhorn-system';
const OLD_VOLUME = 'pvc-0d5e1c2a-old';
/** The vendored cert-manager chart archive, from charts/charts.lock.yaml (no environment renders it yet). */
const CERT_MANAGER_ARCHIVE = (parse(readFileSync(join(REPO_ROOT, 'charts', 'charts.lock.yaml'), 'utf8')) as { charts: { name: string; archive: string }[] }).charts.find((chart) => chart.name === 'cert-manager')!.archive;

const unavailable = controlPlaneUnavailable();
if (unavailable) process.stdout.write(`ops-k8s-control-plane.test.ts skipped: ${unavailable}\n`);

const config = loadConfig(REPO_ROOT, ENV);
const rendered = (folder: string) => join(REPO_ROOT, 'rendered', ENV, folder);

function run(overrides: Partial<RunOptions> = {}): { run: RunOptions; lines: string[] } {
  const lines: string[] = [];
  return { lines, run: { dryRun: false, assumeYes: true, reporter: { info: (line) => lines.push(line), warn: (line) => lines.push(`WARN ${line}`) }, confirmer: { confirm: async () => false }, ...overrides } };
}

function context(positionals: string[], values: VerbContext['values'], options: RunOptions): VerbContext {
  return { root: REPO_ROOT, config, values, positionals, run: options };
}

/** Runs `tick` every half second until stopped: a controller's visible behaviour, played by the test. */
function playController(tick: () => Promise<void>): { stop(): Promise<void>; errors: unknown[] } {
  let stopped = false;
  const errors: unknown[] = [];
  const loop = (async () => {
    while (!stopped) {
      await tick().catch((error: unknown) => errors.push(error));
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  })();
  return { errors, stop: async () => ((stopped = true), await loop) };
}

const ready = (reason: string, status = 'True', message = '') => [{ type: 'Ready', status, reason, message, lastTransitionTime: new Date().toISOString() }];

describe.skipIf(unavailable)('ops verbs against the real control plane', () => {
  let controlPlane: ControlPlane | undefined;
  let moto: MotoServer | undefined;
  let dir: string;
  let kube: KubeClient;
  let aws: AwsClients;

  beforeAll(async () => {
    const input = readRenderedInputs(REPO_ROOT, [ENV])[0]!;
    dir = mkdtempSync(join(tmpdir(), 'ops-k8s-'));
    [moto] = await Promise.all([startMoto(60_000), (async () => {
      controlPlane = new ControlPlane({ binaries: ensureControlPlane(input.kubernetes.minor), root: REPO_ROOT, dir });
      await controlPlane.start();
    })()]);
    aws = awsClients({ region: config.aws.region, endpoint: moto!.endpoint, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
    const foundation = await applyFoundation(controlPlane!.kubectl, planEnvironment(input), REPO_ROOT);
    expect(foundation.filter((outcome) => !outcome.ok).map((outcome) => outcome.message)).toEqual([]);
    kube = KubeClient.fromKubeconfig(controlPlane!.kubeconfig);
    // The claim's current volume, as Longhorn's CSI provisioner made it, before the claim is applied.
    await kube.create(RESOURCES.pv, { apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name: OLD_VOLUME }, spec: { capacity: { storage: '10Gi' }, accessModes: ['ReadWriteOnce'], persistentVolumeReclaimPolicy: 'Retain', storageClassName: 'longhorn-retain', claimRef: { namespace: 'open-webui', name: 'open-webui-data' }, csi: { driver: 'driver.longhorn.io', volumeHandle: OLD_VOLUME } } });
    await kube.create(RESOURCES.longhornVolume, { apiVersion: 'longhorn.io/v1beta2', kind: 'Volume', metadata: { name: OLD_VOLUME, namespace: LONGHORN }, spec: { size: '10737418240', numberOfReplicas: 1, frontend: 'blockdev', dataEngine: 'v1' } });
    const apps = readdirSync(rendered('apps')).filter((file) => file.startsWith('application_')).map((file) => ['-f', join(rendered('apps'), file)]).flat();
    const applied = await controlPlane!.kubectl.run(['apply', ...apps, '-f', rendered('open-webui'), '-f', rendered('litellm'), '-f', rendered('redis'), '-f', rendered('longhorn-backups'), '-f', rendered('monitoring')]);
    expect(applied.stderr).toBe('');
    expect(applied.ok).toBe(true);
  }, BUILD_TIMEOUT_MS);

  afterAll(async () => {
    await controlPlane?.stop();
    await moto?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, RUN_TIMEOUT_MS);

  const automated = async (name: string) => (await kube.get(RESOURCES.application, 'argocd', name)).spec?.syncPolicy?.automated;

  async function seedBackup(name: string, state: string, createdAt: string): Promise<void> {
    await kube.create(RESOURCES.longhornBackup, { apiVersion: 'longhorn.io/v1beta2', kind: 'Backup', metadata: { name, namespace: LONGHORN, labels: { 'backup-volume': OLD_VOLUME } }, spec: { snapshotName: `snap-${name}` } });
    await kube.mergePatch(RESOURCES.longhornBackup, LONGHORN, name, { status: { state, volumeName: OLD_VOLUME, backupCreatedAt: createdAt, volumeSize: '10737418240', url: `s3://longhorn-backups@${config.aws.region}/?backup=${name}&volume=${OLD_VOLUME}` } }, 'status');
  }

  it('restore-volume: pauses sync (root first), scales Open WebUI to 0, restores the latest completed backup, binds the claim to it, scales back and re-enables sync', async () => {
    await seedBackup('backup-older', 'Completed', '2026-11-30T02:30:00Z');
    await seedBackup('backup-latest', 'Completed', '2026-12-01T02:30:00Z');
    await seedBackup('backup-running', 'InProgress', '2026-12-02T02:30:00Z');
    const before = { root: await automated('root'), openWebUI: await automated('open-webui') };
    expect(before.openWebUI).toEqual({ prune: true, selfHeal: true });
    await controlPlane!.kubectl.run(['wait', '--for=jsonpath={.status.phase}=Bound', '--timeout=120s', '-n', 'open-webui', 'pvc/open-webui-data'], undefined, 130_000);
    // Longhorn's manager, as the API shows it: restores a Volume created from a backup; the test notes what it saw then.
    const seenAtRestore: { root?: unknown; openWebUI?: unknown; replicas?: number; fromBackup?: string }[] = [];
    const longhorn = playController(async () => {
      for (const volume of await kube.list(RESOURCES.longhornVolume, LONGHORN)) {
        if (!volume.spec?.fromBackup || volume.status?.restoreInitiated) continue;
        const deployment = await kube.get(RESOURCES.deployment, 'open-webui', 'open-webui');
        seenAtRestore.push({ root: await automated('root'), openWebUI: await automated('open-webui'), replicas: deployment.spec.replicas, fromBackup: volume.spec.fromBackup });
        await kube.mergePatch(RESOURCES.longhornVolume, LONGHORN, volume.metadata.name, { status: { restoreInitiated: true, restoreRequired: false, state: 'detached' } }, 'status');
      }
    });
    const { run: options, lines } = run();
    try {
      const plan = await restoreVolumePlan(context(['open-webui/open-webui-data'], {}, options), () => kube, { timeoutMs: WAIT_MS, volumeName: 'open-webui-data-restored', stepMs: 500 });
      expect(await executePlan(plan, options)).toBe(EXIT.ok);
    } finally {
      await longhorn.stop();
    }
    expect(longhorn.errors).toEqual([]);
    expect(lines.filter((line) => line.startsWith('['))).toEqual([
      '[1/8] pause automated sync of Argo CD Application argocd/root',
      '[2/8] pause automated sync of Argo CD Application argocd/open-webui',
      '[3/8] scale Deployment open-webui/open-webui to 0 and wait until its pods are gone',
      `[4/8] create Longhorn Volume longhorn-system/open-webui-data-restored from s3://longhorn-backups@${config.aws.region}/?backup=backup-latest&volume=${OLD_VOLUME} and wait until restored`,
      '[5/8] create PersistentVolume open-webui-data-restored for it, reserved for open-webui/open-webui-data',
      `[6/8] delete PersistentVolumeClaim open-webui/open-webui-data (its volume ${OLD_VOLUME} is kept) and wait until it is gone`,
      '[7/8] re-create PersistentVolumeClaim open-webui/open-webui-data as rendered, bound to open-webui-data-restored, and wait until Bound',
      '[8/8] scale Deployment open-webui/open-webui back to its replicas',
      '[always] re-enable automated sync of Argo CD Application argocd/open-webui',
      '[always] re-enable automated sync of Argo CD Application argocd/root',
    ]);
    expect(lines).toContain('  backup backup-latest  created 2026-12-01T02:30:00Z  size 10737418240');
    expect(lines.some((line) => line.includes('backup-running'))).toBe(false);
    // While Longhorn restored: sync paused on both, Open WebUI at 0.
    expect(seenAtRestore).toEqual([{ root: undefined, openWebUI: undefined, replicas: 0, fromBackup: expect.stringContaining('backup=backup-latest') }]);
    const claim = await kube.get(RESOURCES.pvc, 'open-webui', 'open-webui-data');
    expect({ phase: claim.status?.phase, volumeName: claim.spec?.volumeName, annotation: claim.metadata.annotations?.['argocd.argoproj.io/sync-options'] }).toEqual({ phase: 'Bound', volumeName: 'open-webui-data-restored', annotation: 'Prune=false,Delete=false' });
    expect((await kube.get(RESOURCES.pv, undefined, OLD_VOLUME)).status?.phase).toBe('Released');
    expect((await kube.get(RESOURCES.deployment, 'open-webui', 'open-webui')).spec.replicas).toBe(1);
    expect({ root: await automated('root'), openWebUI: await automated('open-webui') }).toEqual(before);
  }, RUN_TIMEOUT_MS);

  it('restore-volume: a step that fails (Longhorn never finishes the restore) still re-enables sync, and says what was done', async () => {
    const before = { root: await automated('root'), openWebUI: await automated('open-webui') };
    const { run: options, lines } = run();
    const plan = await restoreVolumePlan(context(['open-webui/open-webui-data'], { backup: 'backup-older' }, options), () => kube, { timeoutMs: 3000, volumeName: 'open-webui-data-stuck', stepMs: 500 });
    expect(await executePlan(plan, options)).toBe(EXIT.failed);
    expect(lines).toContain('WARN ✗ step 4 failed: create Longhorn Volume longhorn-system/open-webui-data-stuck from s3://longhorn-backups@me-central-1/?backup=backup-older&volume=pvc-0d5e1c2a-old and wait until restored: timed out after 3 s waiting for Longhorn Volume open-webui-data-stuck to finish restoring (status.restoreRequired false, state detached)\n  fix: look at the object with kubectl describe; run the verb again when it is settled');
    expect(lines).toContain('WARN   already done: steps 1-3; not run: steps 5-8');
    expect(lines.filter((line) => line.startsWith('[always]'))).toHaveLength(2);
    expect({ root: await automated('root'), openWebUI: await automated('open-webui') }).toEqual(before);
    expect(before.root).toEqual({ prune: true, selfHeal: true });
    // The claim is untouched: still bound to the volume of the first restore.
    expect((await kube.get(RESOURCES.pvc, 'open-webui', 'open-webui-data')).spec.volumeName).toBe('open-webui-data-restored');
    // Scale it back for what follows (Argo CD's self-heal would, with sync re-enabled).
    await kube.mergePatch(RESOURCES.deployment, 'open-webui', 'open-webui', { spec: { replicas: 1 } }, 'scale');
  }, RUN_TIMEOUT_MS);

  it('rotate litellm-master-key: new value in Secrets Manager, both ExternalSecrets refreshed, and the controller-manager rolls both Deployments to a new ReplicaSet', async () => {
    const name = `${config.secretsManager.prefix}litellm/master-key`;
    await aws.secrets.send(new CreateSecretCommand({ Name: name, SecretString: 'old-master-key' }));
    const replicaSets = async (namespace: string) => (await kube.list(RESOURCES.replicaset, namespace)).filter((set) => set.metadata.name.startsWith(`${namespace}-`));
    const initial = { litellm: (await replicaSets('litellm')).length, openWebUI: (await replicaSets('open-webui')).length };
    expect(initial).toEqual({ litellm: 1, openWebUI: 1 });
    // External Secrets' controller, as the API shows it: a new force-sync value → synced now, Ready.
    const eso = playController(async () => {
      for (const secret of await kube.list(RESOURCES.externalSecret)) {
        const requested = secret.metadata.annotations?.[FORCE_SYNC_ANNOTATION];
        if (!requested || secret.status?.refreshTime === requested) continue;
        await kube.mergePatch(RESOURCES.externalSecret, secret.metadata.namespace, secret.metadata.name, { status: { refreshTime: requested, conditions: ready('SecretSynced') } }, 'status');
      }
    });
    const { run: options, lines } = run();
    try {
      const plan = rotatePlan(context(['litellm-master-key'], {}, options), { kube: () => kube, secrets: () => aws.secrets, addValkeyPassword: async () => { throw new Error('not for this secret'); }, timeoutMs: 5000, stepMs: 500 });
      // No kubelet: the new pods are never available, so the rollout wait is what fails.
      expect(await executePlan(plan, options)).toBe(EXIT.failed);
    } finally {
      await eso.stop();
    }
    expect(eso.errors).toEqual([]);
    expect(lines).toContain('WARN   already done: steps 1-3; not run: none');
    expect(lines.find((line) => line.startsWith('WARN ✗'))).toMatch(/step 4 failed: wait until litellm\/litellm, monitoring\/prometheus, open-webui\/open-webui run only restarted pods: timed out after 5 s waiting for Deployment litellm\/litellm to finish its rollout/);
    const stored = (await aws.secrets.send(new GetSecretValueCommand({ SecretId: name }))).SecretString!;
    expect(stored).toMatch(/^[A-Za-z0-9]{64}$/);
    for (const [namespace, secret] of [['litellm', 'litellm-env'], ['open-webui', 'open-webui-env']] as const) {
      const externalSecret = await kube.get(RESOURCES.externalSecret, namespace, secret);
      expect(externalSecret.metadata.annotations?.[FORCE_SYNC_ANNOTATION]).toMatch(/^\d{4}-\d\d-\d\dT/);
      // The Deployment controller made a second ReplicaSet whose pod template carries the restart.
      let sets: KubeObject[] = [];
      for (let attempt = 0; attempt < 120 && sets.length < 2; attempt++) {
        sets = await replicaSets(namespace);
        if (sets.length < 2) await new Promise((resolve) => setTimeout(resolve, 1000));
      }
      expect(sets).toHaveLength(2);
      expect(sets.map((set) => set.spec.template.metadata.annotations?.[RESTARTED_AT_ANNOTATION] ?? null).sort()).toEqual([externalSecret.metadata.annotations?.[FORCE_SYNC_ANNOTATION], null].sort());
    }
    // Redis does not read the master key: not restarted.
    expect((await replicaSets('redis'))).toHaveLength(1);
  }, RUN_TIMEOUT_MS);

  it('rotate valkey-password: the new password reaches the running Valkey before anything restarts, and Valkey is not restarted while its clients have not rolled out', async () => {
    const name = `${config.secretsManager.prefix}redis/password`;
    await aws.secrets.send(new CreateSecretCommand({ Name: name, SecretString: 'old-valkey-password' }));
    const redisSets = async () => (await kube.list(RESOURCES.replicaset, 'redis')).length;
    const seen: { password: string; redisAuthRefresh?: string; redisReplicaSets: number; litellmRestartedAt?: string }[] = [];
    const eso = playController(async () => {
      for (const secret of await kube.list(RESOURCES.externalSecret)) {
        const requested = secret.metadata.annotations?.[FORCE_SYNC_ANNOTATION];
        if (!requested || secret.status?.refreshTime === requested) continue;
        await kube.mergePatch(RESOURCES.externalSecret, secret.metadata.namespace, secret.metadata.name, { status: { refreshTime: requested, conditions: ready('SecretSynced') } }, 'status');
      }
    });
    const litellmRestartedAt = async () => (await kube.get(RESOURCES.deployment, 'litellm', 'litellm')).spec.template.metadata.annotations?.[RESTARTED_AT_ANNOTATION];
    const restartedBefore = await litellmRestartedAt();
    const { run: options, lines } = run();
    try {
      const plan = rotatePlan(context(['valkey-password'], {}, options), {
        kube: () => kube,
        secrets: () => aws.secrets,
        // kubectl exec needs a kubelet; the test records what the cluster looked like when Valkey would get the password.
        addValkeyPassword: async (server, password) => {
          seen.push({ password, redisAuthRefresh: (await kube.get(RESOURCES.externalSecret, 'redis', 'redis-auth')).metadata.annotations?.[FORCE_SYNC_ANNOTATION], redisReplicaSets: await redisSets(), litellmRestartedAt: await litellmRestartedAt() });
          expect(server).toEqual({ namespace: 'redis', name: 'redis', container: 'valkey' });
        },
        timeoutMs: 5000,
        stepMs: 500,
      });
      expect(await executePlan(plan, options)).toBe(EXIT.failed);
    } finally {
      await eso.stop();
    }
    expect(eso.errors).toEqual([]);
    const stored = (await aws.secrets.send(new GetSecretValueCommand({ SecretId: name }))).SecretString!;
    expect(seen).toEqual([{ password: stored, redisAuthRefresh: undefined, redisReplicaSets: 1, litellmRestartedAt: restartedBefore }]);
    expect(lines.find((line) => line.startsWith('WARN ✗'))).toMatch(/step 5 failed: wait until litellm\/litellm, open-webui\/open-webui run only restarted pods: timed out/);
    expect(lines).toContain('WARN   already done: steps 1-4; not run: steps 6-7');
    expect((await kube.get(RESOURCES.externalSecret, 'redis', 'redis-auth')).metadata.annotations?.[FORCE_SYNC_ANNOTATION]).toMatch(/^\d{4}-/);
    expect(await litellmRestartedAt()).not.toBe(restartedBefore);
    expect((await kube.get(RESOURCES.deployment, 'redis', 'redis')).spec.template.metadata.annotations?.[RESTARTED_AT_ANNOTATION]).toBeUndefined();
    expect(await redisSets()).toBe(1);
  }, RUN_TIMEOUT_MS);

  it('rotate webui-secret-key: an ExternalSecret that syncs but is not Ready stops the rotation before any restart', async () => {
    const name = `${config.secretsManager.prefix}openwebui/secret-key`;
    await aws.secrets.send(new CreateSecretCommand({ Name: name, SecretString: 'old-webui-key' }));
    const restartedAt = async () => (await kube.get(RESOURCES.deployment, 'open-webui', 'open-webui')).spec.template.metadata.annotations?.[RESTARTED_AT_ANNOTATION];
    const before = await restartedAt();
    const eso = playController(async () => {
      const secret = await kube.get(RESOURCES.externalSecret, 'open-webui', 'open-webui-env');
      const requested = secret.metadata.annotations?.[FORCE_SYNC_ANNOTATION];
      if (requested && secret.status?.refreshTime !== requested) await kube.mergePatch(RESOURCES.externalSecret, 'open-webui', 'open-webui-env', { status: { refreshTime: requested, conditions: ready('SecretSyncedError', 'False', 'AccessDeniedException') } }, 'status');
    });
    const { run: options, lines } = run();
    try {
      const plan = rotatePlan(context(['webui-secret-key'], {}, options), { kube: () => kube, secrets: () => aws.secrets, addValkeyPassword: async () => { throw new Error('not for this secret'); }, timeoutMs: WAIT_MS, stepMs: 500 });
      expect(await executePlan(plan, options)).toBe(EXIT.failed);
    } finally {
      await eso.stop();
    }
    expect(lines.find((line) => line.startsWith('WARN ✗'))).toMatch(/step 2 failed: refresh ExternalSecret open-webui\/open-webui-env now .*: ExternalSecret open-webui\/open-webui-env is not Ready: SecretSyncedError AccessDeniedException\n {2}fix: fix the store or the secret/);
    expect(await restartedAt()).toBe(before);
  }, RUN_TIMEOUT_MS);

  describe('doctor', () => {
    const bucket = bucketName(config, 'etcdSnapshots');

    /** Everything well: Applications Synced/Healthy, ExternalSecrets Ready, fresh backups, the node Ready with a fresh heartbeat. */
    async function allWell(): Promise<void> {
      await aws.s3.send(new PutObjectCommand({ Bucket: bucket, Key: `${ETCD_SNAPSHOT_FOLDER}/on-demand-server-0-1764640000`, Body: 'snapshot' }));
      for (const app of await kube.list(RESOURCES.application, 'argocd')) await kube.mergePatch(RESOURCES.application, 'argocd', app.metadata.name, { status: { sync: { status: 'Synced' }, health: { status: 'Healthy' } } });
      for (const secret of await kube.list(RESOURCES.externalSecret)) await kube.mergePatch(RESOURCES.externalSecret, secret.metadata.namespace, secret.metadata.name, { status: { refreshTime: new Date().toISOString(), conditions: ready('SecretSynced') } }, 'status');
      const volumes = await kube.list(RESOURCES.longhornBackupVolume, LONGHORN);
      if (!volumes.some((volume) => volume.metadata.name === OLD_VOLUME)) await kube.create(RESOURCES.longhornBackupVolume, { apiVersion: 'longhorn.io/v1beta2', kind: 'BackupVolume', metadata: { name: OLD_VOLUME, namespace: LONGHORN }, spec: { volumeName: OLD_VOLUME } });
      await kube.mergePatch(RESOURCES.longhornBackupVolume, LONGHORN, OLD_VOLUME, { status: { lastBackupAt: new Date(Date.now() - 3 * 3_600_000).toISOString(), lastBackupName: 'backup-latest' } }, 'status');
      const now = new Date().toISOString();
      await kube.mergePatch(RESOURCES.node, undefined, TEST_NODE, { status: { conditions: [
        { type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'test', lastHeartbeatTime: now, lastTransitionTime: now },
        { type: 'DiskPressure', status: 'False', reason: 'KubeletHasNoDiskPressure', message: 'test', lastHeartbeatTime: now, lastTransitionTime: now },
      ] } }, 'status');
    }

    const doctorRun = async (client: () => KubeClient) => {
      const { run: options, lines } = run();
      const code = await runDoctor(context([], {}, options), { kube: client, s3: () => aws.s3 });
      return { code, lines, findings: lines.filter((line) => line.startsWith('FINDING')) };
    };

    it('passes when all is well: every Application, ExternalSecret, the backup, the etcd snapshot and the node', async () => {
      await aws.s3.send(new CreateBucketCommand({ Bucket: bucket, CreateBucketConfiguration: { LocationConstraint: config.aws.region as never } }));
      await allWell();
      const { code, lines, findings } = await doctorRun(() => kube);
      expect(findings).toEqual([]);
      expect(code).toBe(EXIT.ok);
      const apps = (await kube.list(RESOURCES.application, 'argocd')).length;
      expect(lines.filter((line) => /^ok\s+Application\s/.test(line))).toHaveLength(apps);
      expect(lines.filter((line) => /^ok\s+ExternalSecret\s/.test(line)).length).toBeGreaterThanOrEqual(3);
      expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^ok\\s+Longhorn backup\\s+${OLD_VOLUME}\\s+last backup-latest 3\\.0 h ago \\(schedule every 24 h\\)$`)));
      expect(lines).toContainEqual(expect.stringMatching(/^ok\s+etcd snapshot\s+s3:\/\/dubai-dev-etcd-snapshots-\d+\/etcd\/\s+newest on-demand-server-0-1764640000 0\.0 h ago \(schedule every 6 h\)$/));
      expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^ok\\s+Node\\s+${TEST_NODE}\\s+Ready, no pressure$`)));
    }, RUN_TIMEOUT_MS);

    it('finds a Degraded Application, an ExternalSecret not Ready and a node with DiskPressure, and exits 4', async () => {
      await allWell();
      await kube.mergePatch(RESOURCES.application, 'argocd', 'open-webui', { status: { sync: { status: 'Synced' }, health: { status: 'Degraded', message: 'Deployment open-webui: ProgressDeadlineExceeded' } } });
      await kube.mergePatch(RESOURCES.externalSecret, 'redis', 'redis-auth', { status: { conditions: ready('SecretSyncedError', 'False', 'could not get secret data from provider') } }, 'status');
      const now = new Date().toISOString();
      await kube.mergePatch(RESOURCES.node, undefined, TEST_NODE, { status: { conditions: [
        { type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'test', lastHeartbeatTime: now, lastTransitionTime: now },
        { type: 'DiskPressure', status: 'True', reason: 'KubeletHasDiskPressure', message: 'test', lastHeartbeatTime: now, lastTransitionTime: now },
      ] } }, 'status');
      const { code, findings, lines } = await doctorRun(() => kube);
      expect(code).toBe(EXIT.findings);
      expect(findings).toEqual([
        expect.stringMatching(/^FINDING\s+Application\s+argocd\/open-webui\s+Synced\/Degraded: Deployment open-webui: ProgressDeadlineExceeded$/),
        expect.stringMatching(/^FINDING\s+ExternalSecret\s+redis\/redis-auth\s+Ready=False: SecretSyncedError could not get secret data from provider$/),
        expect.stringMatching(new RegExp(`^FINDING\\s+Node\\s+${TEST_NODE}\\s+DiskPressure=True$`)),
      ]);
      expect(lines.at(-1)).toMatch(/^doctor: 3 finding\(s\) of \d+ checks$/);
    }, RUN_TIMEOUT_MS);

    it('finds a missing etcd snapshot (an empty snapshot folder)', async () => {
      await allWell();
      await aws.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: `${ETCD_SNAPSHOT_FOLDER}/on-demand-server-0-1764640000` }));
      const { code, findings } = await doctorRun(() => kube);
      expect(code).toBe(EXIT.findings);
      expect(findings).toEqual([expect.stringMatching(/^FINDING\s+etcd snapshot\s+s3:\/\/dubai-dev-etcd-snapshots-\d+\/etcd\/\s+no snapshot in the bucket$/)]);
    }, RUN_TIMEOUT_MS);

    it('checks cert-manager Certificates where the CRD is installed: one expiring in 5 days is a finding, one in 60 days is not', async () => {
      // The Certificate CRD of the vendored cert-manager chart (charts/), rendered by the pinned helm.
      const chart = join(REPO_ROOT, 'charts', CERT_MANAGER_ARCHIVE);
      const crd = await runHelm(ensureHelm(REPO_ROOT), ['template', 'cert-manager', chart, '--kube-version', `1.${readRenderedInputs(REPO_ROOT, [ENV])[0]!.kubernetes.minor}.0`, '--set', 'crds.enabled=true', '--show-only', 'templates/crd-cert-manager.io_certificates.yaml']);
      const applied = await controlPlane!.kubectl.run(['apply', '--server-side', '-f', '-'], crd.stdout);
      expect(applied.stderr).toBe('');
      const established = await controlPlane!.kubectl.run(['wait', '--for=condition=Established', '--timeout=120s', 'crd/certificates.cert-manager.io'], undefined, 130_000);
      expect(established.stderr).toBe('');
      await allWell();
      for (const [name, days] of [['tailnet-soon', 5], ['tailnet-later', 60]] as const) {
        await kube.create(RESOURCES.certificate, { apiVersion: 'cert-manager.io/v1', kind: 'Certificate', metadata: { name, namespace: 'open-webui' }, spec: { secretName: `${name}-tls`, dnsNames: [`${name}.example.org`], issuerRef: { name: 'letsencrypt', kind: 'ClusterIssuer' } } });
        await kube.mergePatch(RESOURCES.certificate, 'open-webui', name, { status: { notAfter: new Date(Date.now() + days * 86_400_000 + 3_600_000).toISOString(), conditions: ready('Ready') } }, 'status');
      }
      const { code, findings, lines } = await doctorRun(() => kube);
      expect(findings).toEqual([expect.stringMatching(/^FINDING\s+Certificate\s+open-webui\/tailnet-soon\s+Ready=True, expires in 5 days$/)]);
      expect(lines).toContainEqual(expect.stringMatching(/^ok\s+Certificate\s+open-webui\/tailnet-later\s+Ready=True, expires in 60 days$/));
      expect(code).toBe(EXIT.findings);
    }, RUN_TIMEOUT_MS);

    it('exits 1 when it cannot reach the cluster', async () => {
      const file = join(dir, 'unreachable.kubeconfig');
      writeFileSync(file, JSON.stringify({ apiVersion: 'v1', kind: 'Config', clusters: [{ name: 'c', cluster: { server: 'https://127.0.0.1:1' } }], users: [{ name: 'u', user: { token: 'x' } }], contexts: [{ name: 'x', context: { cluster: 'c', user: 'u' } }], 'current-context': 'x' }));
      const { code, lines } = await doctorRun(() => KubeClient.fromKubeconfig(file));
      expect(code).toBe(EXIT.failed);
      expect(lines).toContainEqual(expect.stringMatching(/^WARN cannot read the cluster: GET https:\/\/127\.0\.0\.1:1\/apis\/argoproj\.io\/v1alpha1\/namespaces\/argocd\/applications: connect ECONNREFUSED/));
    }, RUN_TIMEOUT_MS);
  });
});
