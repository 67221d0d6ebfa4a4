/**
 * npm run ops -- restore-volume <namespace>/<claim> --env NAME [--backup NAME]
 *
 * Restores a Longhorn backup into a new Longhorn volume and binds the rendered
 * claim to it: Argo CD's automated sync of the root and the owning Application
 * paused, the workload that mounts the claim scaled to 0, the Volume created
 * with `spec.fromBackup` (Longhorn v1beta2) and waited for, a PV bound to it,
 * the claim deleted and re-created pre-bound to that PV, the workload scaled
 * back; sync re-enabled in `finally`, so also after a failed step. The old
 * volume is kept (the storage class reclaims with Retain): its PV is printed.
 *
 * Restored means what longhorn-manager v1.12.0 sets (controller/
 * volume_controller.go): restoreInitiated true when it starts, restoreRequired
 * false once the last backup is restored with healthy replicas, after which
 * the volume detaches. --dry-run reads the cluster (the claim, the backups) to
 * print the exact plan, and changes nothing.
 */
import { UsageError } from '../../bootstrap/lib/args.js';
import { BootstrapError } from '../../bootstrap/lib/errors.js';
import { NAMESPACES } from '../../generator/platform-names.js';
import { syncPause } from '../argocd-sync.js';
import { KUBECONFIG_OPTION, lazyKube, RESOURCES, waitUntil, type KubeClient, type KubeObject } from '../kube.js';
import { executePlan, type Plan } from '../plan.js';
import { renderedObjects, rootApplication, workloadsMountingClaim } from '../rendered.js';
import type { Verb, VerbContext } from '../verb.js';

export const LONGHORN_CSI_DRIVER = 'driver.longhorn.io';

export interface RestoreVolumeOptions {
  /** How long to wait for each object to settle (Longhorn's restore of a large volume takes a while). */
  timeoutMs: number;
  /** Name of the new Longhorn volume and PV; default `<claim>-restored-<UTC time>`. */
  volumeName?: string;
  stepMs?: number;
}

/** Backups of a Longhorn volume, newest first, completed ones only. */
export async function completedBackups(kube: KubeClient, longhornVolume: string): Promise<KubeObject[]> {
  const backups = await kube.list(RESOURCES.longhornBackup, NAMESPACES.longhorn);
  return backups
    .filter((backup) => (backup.status?.volumeName ?? backup.metadata.labels?.['backup-volume']) === longhornVolume && backup.status?.state === 'Completed')
    .sort((a, b) => String(b.status?.backupCreatedAt ?? '').localeCompare(String(a.status?.backupCreatedAt ?? '')));
}

function parseClaim(positionals: string[]): { namespace: string; claim: string } {
  const [target, ...extra] = positionals;
  const match = /^([a-z0-9-]+)\/([a-z0-9.-]+)$/.exec(target ?? '');
  if (!match || extra.length > 0) throw new UsageError(`restore-volume takes one <namespace>/<claim> (e.g. open-webui/open-webui-data), got ${JSON.stringify(positionals.join(' '))}`);
  return { namespace: match[1]!, claim: match[2]! };
}

export async function restoreVolumePlan(context: VerbContext, kube: () => KubeClient, options: RestoreVolumeOptions): Promise<Plan> {
  const { namespace, claim } = parseClaim(context.positionals);
  const objects = renderedObjects(context.root, context.config.name);
  const rendered = objects.find((entry) => entry.kind === 'PersistentVolumeClaim' && entry.namespace === namespace && entry.name === claim);
  if (!rendered) {
    const claims = objects.filter((entry) => entry.kind === 'PersistentVolumeClaim').map((entry) => `${entry.namespace}/${entry.name}`);
    throw new UsageError(`rendered/${context.config.name}/ has no PersistentVolumeClaim ${namespace}/${claim}; rendered claims: ${claims.join(', ') || '(none)'}`);
  }
  const workloads = workloadsMountingClaim(objects, namespace, claim);
  const root = rootApplication(objects);
  const applications = [...(root ? [root.name] : []), rendered.application].filter((name, index, all) => all.indexOf(name) === index);

  const live = await kube().get(RESOURCES.pvc, namespace, claim);
  const oldVolume: string | undefined = live.spec?.volumeName;
  if (!oldVolume) throw new BootstrapError(`PersistentVolumeClaim ${namespace}/${claim} is not bound to a volume`, 'there is no Longhorn volume whose backups could be found; pass the backup of another volume with --backup');
  const backupName = typeof context.values.backup === 'string' ? context.values.backup : undefined;
  let backup: KubeObject | undefined;
  if (backupName) {
    backup = await kube().find(RESOURCES.longhornBackup, NAMESPACES.longhorn, backupName);
    if (!backup) throw new BootstrapError(`Longhorn Backup ${NAMESPACES.longhorn}/${backupName} does not exist`, `list them: kubectl -n ${NAMESPACES.longhorn} get backups.longhorn.io (or run without --backup for the latest completed one of ${oldVolume})`);
    if (backup.status?.state !== 'Completed') throw new BootstrapError(`Longhorn Backup ${backupName} is ${backup.status?.state ?? 'in no state'}, not Completed`, 'pick a completed backup');
  } else {
    const backups = await completedBackups(kube(), oldVolume);
    for (const candidate of backups) context.run.reporter.info(`  backup ${candidate.metadata.name}  created ${candidate.status?.backupCreatedAt ?? '?'}  size ${candidate.status?.volumeSize ?? '?'}`);
    backup = backups[0];
    if (!backup) throw new BootstrapError(`Longhorn volume ${oldVolume} (claim ${namespace}/${claim}) has no completed backup`, `check the backup target and the RecurringJob in ${NAMESPACES.longhorn}; pass --backup NAME for a backup of another volume`);
  }
  const url: string | undefined = backup.status?.url;
  if (!url) throw new BootstrapError(`Longhorn Backup ${backup.metadata.name} has no status.url`, 'wait until Longhorn has synced the backup target, then run again');
  const oldLonghorn = await kube().find(RESOURCES.longhornVolume, NAMESPACES.longhorn, oldVolume);
  const replicas = oldLonghorn?.spec?.numberOfReplicas ?? 1;
  const size = String(backup.status?.volumeSize ?? oldLonghorn?.spec?.size ?? '');
  if (!size) throw new BootstrapError(`Longhorn Backup ${backup.metadata.name} does not say the volume's size`, 'wait until Longhorn has synced the backup, then run again');
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*$/, '').toLowerCase();
  const newVolume = options.volumeName ?? `${claim}-restored-${stamp}`.slice(0, 63);
  const wait = <T>(what: string, probe: () => Promise<T | undefined>) => waitUntil(what, options.timeoutMs, probe, options.stepMs);

  const replicasBefore = new Map<string, number>();
  const pauses = syncPause(kube, applications);
  const claimSpec = rendered.object.spec;
  const resourceOf = (kind: string) => (kind === 'StatefulSet' ? RESOURCES.statefulset : RESOURCES.deployment);

  return {
    summary: `restore ${namespace}/${claim} from Longhorn backup ${backup.metadata.name} into volume ${newVolume}`,
    consequences: [
      `${workloads.map((entry) => `${entry.kind} ${entry.namespace}/${entry.name}`).join(', ') || 'nothing'} is down until the restore is done`,
      `Argo CD does not sync ${applications.join(', ')} meanwhile`,
      `the claim is deleted and re-created; its old volume ${oldVolume} is kept (Retain) for you to delete once the restore is checked`,
    ],
    steps: [
      ...pauses.pause,
      ...workloads.map((entry) => ({
        title: `scale ${entry.kind} ${entry.namespace}/${entry.name} to 0 and wait until its pods are gone`,
        async run() {
          const resource = resourceOf(entry.kind);
          const current = await kube().get(resource, entry.namespace, entry.name);
          replicasBefore.set(entry.name, current.spec?.replicas ?? 1);
          await kube().mergePatch(resource, entry.namespace, entry.name, { spec: { replicas: 0 } }, 'scale');
          await wait(`${entry.kind} ${entry.namespace}/${entry.name} to have no pods`, async () => ((await kube().get(resource, entry.namespace, entry.name)).status?.replicas ?? 0) === 0 || undefined);
        },
      })),
      {
        title: `create Longhorn Volume ${NAMESPACES.longhorn}/${newVolume} from ${url} and wait until restored`,
        async run() {
          await kube().create(RESOURCES.longhornVolume, {
            apiVersion: RESOURCES.longhornVolume.apiVersion,
            kind: 'Volume',
            metadata: { name: newVolume, namespace: NAMESPACES.longhorn, labels: { 'app.kubernetes.io/managed-by': 'npm-run-ops' } },
            spec: { fromBackup: url, size, numberOfReplicas: replicas, frontend: 'blockdev', dataEngine: oldLonghorn?.spec?.dataEngine ?? 'v1' },
          });
          await wait(`Longhorn Volume ${newVolume} to finish restoring (status.restoreRequired false, state detached)`, async () => {
            const status = (await kube().get(RESOURCES.longhornVolume, NAMESPACES.longhorn, newVolume)).status ?? {};
            return status.restoreInitiated === true && status.restoreRequired === false && status.state === 'detached' ? true : undefined;
          });
        },
      },
      {
        title: `create PersistentVolume ${newVolume} for it, reserved for ${namespace}/${claim}`,
        async run() {
          await kube().create(RESOURCES.pv, {
            apiVersion: 'v1',
            kind: 'PersistentVolume',
            metadata: { name: newVolume, labels: { 'app.kubernetes.io/managed-by': 'npm-run-ops' } },
            spec: {
              capacity: { storage: claimSpec.resources.requests.storage },
              accessModes: claimSpec.accessModes,
              persistentVolumeReclaimPolicy: 'Retain',
              storageClassName: claimSpec.storageClassName,
              volumeMode: 'Filesystem',
              claimRef: { apiVersion: 'v1', kind: 'PersistentVolumeClaim', namespace, name: claim },
              csi: { driver: LONGHORN_CSI_DRIVER, volumeHandle: newVolume, fsType: 'ext4', volumeAttributes: { numberOfReplicas: String(replicas) } },
            },
          });
        },
      },
      {
        title: `delete PersistentVolumeClaim ${namespace}/${claim} (its volume ${oldVolume} is kept) and wait until it is gone`,
        destructive: true,
        async run() {
          await kube().delete(RESOURCES.pvc, namespace, claim);
          await wait(`PersistentVolumeClaim ${namespace}/${claim} to be deleted`, async () => ((await kube().find(RESOURCES.pvc, namespace, claim)) ? undefined : true));
        },
      },
      {
        title: `re-create PersistentVolumeClaim ${namespace}/${claim} as rendered, bound to ${newVolume}, and wait until Bound`,
        async run() {
          const { metadata } = rendered.object;
          await kube().create(RESOURCES.pvc, { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: claim, namespace, labels: metadata.labels, annotations: metadata.annotations }, spec: { ...claimSpec, volumeName: newVolume } });
          await wait(`PersistentVolumeClaim ${namespace}/${claim} to be Bound to ${newVolume}`, async () => {
            const pvc = await kube().get(RESOURCES.pvc, namespace, claim);
            return pvc.status?.phase === 'Bound' && pvc.spec?.volumeName === newVolume ? true : undefined;
          });
        },
      },
      ...workloads.map((entry) => ({
        title: `scale ${entry.kind} ${entry.namespace}/${entry.name} back to its replicas`,
        async run() {
          await kube().mergePatch(resourceOf(entry.kind), entry.namespace, entry.name, { spec: { replicas: replicasBefore.get(entry.name) ?? entry.object.spec?.replicas ?? 1 } }, 'scale');
        },
      })),
    ],
    finally: pauses.resume,
  };
}

export const restoreVolume: Verb = {
  name: 'restore-volume',
  summary: 'restore a Longhorn backup into a volume and bind the rendered claim to it (Argo CD sync paused, re-enabled even on failure)',
  usage: '<namespace>/<claim> [--backup NAME] [--kubeconfig FILE] [--timeout SECONDS]',
  options: { ...KUBECONFIG_OPTION, backup: { type: 'string' }, timeout: { type: 'string', default: '1800' } },
  async run(context) {
    const timeout = Number(context.values.timeout);
    if (!Number.isInteger(timeout) || timeout <= 0) throw new UsageError(`--timeout must be a whole number of seconds, got ${String(context.values.timeout)}`);
    const kube = lazyKube(context.values, context.config.name);
    return executePlan(await restoreVolumePlan(context, kube, { timeoutMs: timeout * 1000 }), context.run);
  },
};
