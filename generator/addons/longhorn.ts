/**
 * Longhorn block storage: the chart, its privileged namespace (the one
 * documented exception to the restricted Pod Security profile), the
 * `longhorn-retain` StorageClass every PVC uses, and its backup target in the
 * environment's backup bucket.
 */
import { k8s } from 'cdk8s-plus-28';
import { APPLICATION_WAVE, type ChartException } from '../argocd/application.js';
import type { RenderContext } from '../components/component.js';
import { LONGHORN_BACKUP_PREFIX, NAMESPACES, STORAGE_CLASS } from '../platform-names.js';
import { longhornPlacement, schedulableNodes } from '../cluster/topology.js';
import type { EnvConfig } from '../config/schema.js';
import { scrapeIngressForAddOn } from '../observability/scrape-targets.js';
import { chartAddOn, type AddOn } from './addon.js';
import { LONGHORN_BACKUP_CREDENTIAL, longhornIdentity, longhornWebIdentityServed } from './longhorn-identity.js';
import { FROM_THE_API_SERVER, toApiServer, toInternet } from './network.js';

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
    // The credential Secret holds only the role ARN; the pods get the token from the policy
    // (./longhorn-identity.ts, "What Longhorn does" in docs/workload-identity.md).
    defaultBackupStore: {
      backupTarget: longhornBackupTarget(context),
      backupTargetCredentialSecret: longhornWebIdentityServed(context) ? LONGHORN_BACKUP_CREDENTIAL : '',
      pollInterval: 300,
    },
    longhornUI: { replicas: 1 },
    // No memory limit: an OOM-killed manager stalls the I/O of every volume on its node.
    longhornManager: { resources: { requests: { cpu: '100m', memory: '256Mi' } } },
    csi: { attacherReplicaCount: replicas, provisionerReplicaCount: replicas, resizerReplicaCount: replicas, snapshotterReplicaCount: replicas },
  };
}

const PRIVILEGED = 'Longhorn is the one privileged namespace: its pods attach block devices on the host (documented Longhorn requirement)';
const NO_RESOURCES_VALUE = 'the chart offers no resources value for this pod; it is small and short-lived or idle';
const CALLS_THE_API = 'a Longhorn component that manages Longhorn objects, volumes and attachments through the API';
/** The container-hardening rules a Longhorn pod is exempt from, as the privileged namespace. */
const HOST_ACCESS = ['drop-all-capabilities', 'privilege-escalation', 'read-only-root-filesystem', 'run-as-non-root', 'seccomp-profile'] as const;

const exempt = (rules: readonly string[], reason: string): Record<string, string> => Object.fromEntries(rules.map((rule) => [rule, reason]));

/** What the chart renders that the policy rules would refuse, and why it is right here. */
export function longhornExceptions(): ChartException[] {
  const unsized = exempt(['resource-requests', 'memory-limit'], NO_RESOURCES_VALUE);
  return [
    {
      kind: 'DaemonSet',
      name: 'longhorn-manager',
      allow: {
        ...exempt([...HOST_ACCESS, 'privileged-container', 'host-path-volume', 'restricted-volume-types'], PRIVILEGED),
        'memory-limit': 'an OOM-killed manager would stall the I/O of every volume on its node, so it has requests and no limit',
        'resource-requests': 'the manager container has its requests; the pre-pull-share-manager-image sidecar only pulls an image, and the chart gives it no resources value',
        'service-account-token-automount': CALLS_THE_API,
        'readiness-probe': 'the pre-pull-share-manager-image sidecar only pulls an image and serves nothing; the manager container has its readiness probe',
        'secret-from-external-secret': 'mounts the optional longhorn-grpc-tls Secret; without it Longhorn uses its built-in certificate',
      },
    },
    { kind: 'Deployment', name: 'longhorn-driver-deployer', allow: { ...exempt(HOST_ACCESS, PRIVILEGED), ...unsized, 'service-account-token-automount': `${CALLS_THE_API} (it deploys the CSI driver)` } },
    {
      kind: 'Deployment',
      name: 'longhorn-ui',
      allow: {
        ...exempt(HOST_ACCESS, `${PRIVILEGED}; the UI image runs nginx as root`),
        ...unsized,
        'service-account-token-automount': 'the chart mounts the token of the UI ServiceAccount, which has no Role',
        'readiness-probe': 'the chart has no readiness probe for the UI, which is reached only by port-forward',
      },
    },
    { kind: 'Job', name: 'longhorn-post-upgrade', allow: { ...exempt(HOST_ACCESS, PRIVILEGED), ...unsized, 'service-account-token-automount': `${CALLS_THE_API} (the PostSync hook upgrades Longhorn objects)` } },
    {
      kind: 'Job',
      name: 'longhorn-uninstall',
      allow: { ...exempt(HOST_ACCESS, PRIVILEGED), ...unsized, 'service-account-token-automount': `${CALLS_THE_API} (the pre-delete hook removes every Longhorn object)` },
    },
    { kind: 'Service', name: 'longhorn-admission-webhook', allow: { 'dangling-service': 'selects the longhorn-manager pods by a label the manager adds to itself at runtime' } },
    { kind: 'Service', name: 'longhorn-recovery-backend', allow: { 'dangling-service': 'selects the longhorn-manager pods by a label the manager adds to itself at runtime' } },
  ];
}

export const longhorn: AddOn = chartAddOn({
  folder: NAME,
  namespace: NAMESPACES.longhorn,
  chart: 'longhorn',
  releaseName: NAME,
  wave: APPLICATION_WAVE.crdAddOns,
  description: ({ config }) =>
    `Longhorn (chart), its privileged namespace and the ${STORAGE_CLASS} StorageClass (reclaimPolicy Retain, ${longhornReplicaSettings(config).replicas} replica(s))`,
  values: longhornValues,
  exceptions: longhornExceptions,
  network: ({ config }) => ({
    egress: [
      { name: 'api-server', reason: 'the manager, driver deployer, UI and CSI sidecars work through the API server', to: [toApiServer(config)] },
      { name: 's3', reason: 'backups go to the environment bucket (and STS for the web-identity role) over HTTPS', to: [toInternet([{ port: 443 }])] },
    ],
    ingress: [
      {
        name: 'webhooks-from-api-server',
        pods: { app: 'longhorn-manager' },
        from: [FROM_THE_API_SERVER],
        ports: [{ port: 'admission-wh' }, { port: 'conversion-wh' }],
      },
      scrapeIngressForAddOn(config, 'longhorn-manager'),
    ],
  }),
  holdsData: true,
  privilegedReason: 'Longhorn manager, engine and CSI pods need privileged access to the host to attach block devices (documented Longhorn requirement)',
  build(chart, context, labels) {
    longhornIdentity(chart, context, labels);
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
