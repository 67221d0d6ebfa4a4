/**
 * Longhorn block storage: the chart, its privileged namespace (the one
 * documented exception to the restricted Pod Security profile), the
 * `longhorn-retain` StorageClass every PVC uses, and its backup target in the
 * environment's backup bucket.
 */
import { k8s } from 'cdk8s-plus-28';
import { APPLICATION_WAVE } from '../argocd/application.js';
import type { RenderContext } from '../components/component.js';
import { LONGHORN_BACKUP_PREFIX, NAMESPACES, STORAGE_CLASS } from '../platform-names.js';
import { longhornPlacement, schedulableNodes } from '../cluster/topology.js';
import type { EnvConfig } from '../config/schema.js';
import { chartAddOn, type AddOn } from './addon.js';

const NAME = 'longhorn';

/** `s3://<bucket>@<region>/<prefix>/`; Longhorn requires the trailing slash. */
export function longhornBackupTarget({ config, outputs }: RenderContext): string {
  return `s3://${outputs.buckets.longhornBackups}@${config.aws.region}/${LONGHORN_BACKUP_PREFIX}/`;
}

/**
 * Replica count from the node count (generator/cluster/topology.ts) and, on
 * more than one node, hard node and zone anti-affinity where the nodes and
 * zones can hold the replicas apart.
 */
export function longhornReplicaSettings(config: EnvConfig): { replicas: number; placement: Record<string, boolean | string> } {
  const { replicas, ...antiAffinity } = longhornPlacement(config);
  if (schedulableNodes(config) === 1) return { replicas, placement: {} };
  // A failed node's pods holding a volume are deleted, so they start elsewhere instead of waiting for the node.
  return { replicas, placement: { ...antiAffinity, nodeDownPodDeletionPolicy: 'delete-both-statefulset-and-deployment-pod' } };
}

export function longhornValues(context: RenderContext): Record<string, unknown> {
  const { replicas, placement } = longhornReplicaSettings(context.config);
  return {
    // The pre-upgrade checker is a Helm hook Job that fails when Argo CD renders the chart.
    preUpgradeChecker: { jobEnabled: false },
    // Volumes come only from the StorageClass rendered here (reclaimPolicy Retain); K3s keeps local-path as default.
    persistence: { defaultClass: false, defaultClassReplicaCount: replicas, reclaimPolicy: 'Retain' },
    defaultSettings: {
      // Since Longhorn 1.10 data-engine settings take one value per engine, as a JSON string.
      defaultReplicaCount: JSON.stringify({ v1: String(replicas), v2: String(replicas) }),
      // Uninstalling needs an explicit flag: deleting the Application never removes volumes.
      deletingConfirmationFlag: false,
      ...placement,
    },
    // No credential secret: Longhorn reaches S3 with the node's instance profile.
    defaultBackupStore: { backupTarget: longhornBackupTarget(context), backupTargetCredentialSecret: '', pollInterval: 300 },
    longhornUI: { replicas: 1 },
    csi: { attacherReplicaCount: replicas, provisionerReplicaCount: replicas, resizerReplicaCount: replicas, snapshotterReplicaCount: replicas },
  };
}

export const longhorn: AddOn = chartAddOn({
  folder: NAME,
  namespace: NAMESPACES.longhorn,
  chart: 'longhorn',
  releaseName: NAME,
  wave: APPLICATION_WAVE.crdAddOns,
  providesApiGroups: ['longhorn.io'],
  description: ({ config }) =>
    `Longhorn (chart), its privileged namespace and the ${STORAGE_CLASS} StorageClass (reclaimPolicy Retain, ${longhornReplicaSettings(config).replicas} replica(s))`,
  values: longhornValues,
  holdsData: true,
  privilegedReason: 'Longhorn manager, engine and CSI pods need privileged access to the host to attach block devices (documented Longhorn requirement)',
  build(chart, context, labels) {
    new k8s.KubeStorageClass(chart, 'storage-class', {
      metadata: { name: STORAGE_CLASS, labels },
      provisioner: 'driver.longhorn.io',
      reclaimPolicy: 'Retain',
      allowVolumeExpansion: true,
      volumeBindingMode: 'Immediate',
      parameters: {
        numberOfReplicas: String(longhornReplicaSettings(context.config).replicas),
        staleReplicaTimeout: '30',
        fsType: 'ext4',
        dataLocality: 'best-effort',
      },
    });
  },
});
