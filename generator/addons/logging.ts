/**
 * Logs: VictoriaLogs single-node (Apache-2.0; Loki is AGPL and not used) in
 * namespace `logging`, on a Longhorn volume with the configured retention,
 * and Vector (MPL-2.0, the chart's own collector subchart) as a DaemonSet
 * reading every pod's log files under /var/log/pods through hostPath and
 * shipping them to the store. The hostPath is why the namespace is baseline,
 * not restricted: restricted admits no hostPath volume at all; baseline
 * admits hostPath but still refuses privileged containers, host namespaces
 * and added capabilities. Only Vector (to the store) and Grafana (namespace
 * grafana) reach the store; Vector also reaches the Kubernetes API, which its
 * kubernetes_logs source watches for pod metadata.
 */
import { APPLICATION_WAVE, type ChartException } from '../argocd/application.js';
import type { RenderContext } from '../components/component.js';
import { restrictedPodSecurityContext, SERVICE_IDS } from '../k8s/security.js';
import { DATA_SAFETY_ANNOTATIONS } from '../k8s/sync-waves.js';
import { NAMESPACES, STORAGE_CLASS } from '../platform-names.js';
import { chartAddOn, type AddOn } from './addon.js';
import { toApiServer } from './network.js';

const NAME = 'logging';
const RELEASE = 'victoria-logs';
/** VictoriaLogs' HTTP port (ingestion and queries). */
export const LOG_STORE_PORT = 9428;
/** The store's pods (the chart's server). */
export const LOG_STORE_PODS = { 'app.kubernetes.io/name': 'victoria-logs-single', 'app.kubernetes.io/instance': RELEASE } as const;
/** The K3s API server on the servers (the kubernetes Service forwards 443 there). */
/** Where the kubelet writes every container's log (real files with containerd, no symlinks into /var/lib). */
const POD_LOGS = '/var/log/pods';

export function loggingValues({ config }: RenderContext): Record<string, unknown> {
  return {
    // The store never calls the Kubernetes API.
    serviceAccount: { create: true, automountToken: false },
    server: {
      retentionPeriod: config.logging.retention,
      persistentVolume: { enabled: true, storageClassName: STORAGE_CLASS, size: config.logging.storage, annotations: DATA_SAFETY_ANNOTATIONS },
      resources: { requests: { cpu: '50m', memory: '128Mi' }, limits: { memory: '512Mi' } },
      // The image's binary runs as any user; the chart's 1000/2000 are the node's login ids (policy rule node-login-ids).
      podSecurityContext: { enabled: true, ...restrictedPodSecurityContext({ uid: SERVICE_IDS.victoriaLogs, gid: SERVICE_IDS.victoriaLogs }) },
      securityContext: { enabled: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, readOnlyRootFilesystem: true, seccompProfile: { type: 'RuntimeDefault' } },
    },
    vector: {
      enabled: true,
      resources: { requests: { cpu: '20m', memory: '64Mi' }, limits: { memory: '256Mi' } },
      podSecurityContext: { seccompProfile: { type: 'RuntimeDefault' } },
      securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, readOnlyRootFilesystem: true, seccompProfile: { type: 'RuntimeDefault' } },
      // Only the pod log folder (the chart's default also mounts /var/lib, /proc and /sys for host metrics, which nothing here collects).
      defaultVolumes: [{ name: 'var-log-pods', hostPath: { path: POD_LOGS, type: 'Directory' } }],
      defaultVolumeMounts: [{ name: 'var-log-pods', mountPath: POD_LOGS, readOnly: true }],
      // Nothing connects to Vector (it only sends).
      serviceHeadless: { enabled: false },
    },
  };
}

const READS_POD_LOGS = 'Vector reads every pod\'s log files under /var/log/pods on its node (hostPath, read-only) and keeps its read positions in a hostPath data directory, so a restart neither loses nor repeats lines';

export function loggingExceptions(): ChartException[] {
  const hostPath = `${READS_POD_LOGS}; the namespace is baseline for this reason`;
  return [
    {
      kind: 'DaemonSet',
      name: 'victoria-logs-vector',
      allow: {
        'host-path-volume': hostPath,
        'restricted-volume-types': hostPath,
        'run-as-non-root': 'the kubelet writes the pod log files readable by root only (0640 root:root), so the collector runs as root; it drops every capability, cannot escalate and has a read-only root filesystem',
        'service-account-token-automount': 'Vector\'s kubernetes_logs source watches pods, namespaces and nodes through the API (read-only ClusterRole victoria-logs-vector) to label each line with its pod',
      },
    },
  ];
}

export const logging: AddOn = chartAddOn({
  folder: NAME,
  namespace: NAMESPACES.logging,
  chart: 'victoriaLogs',
  releaseName: RELEASE,
  wave: APPLICATION_WAVE.addOnsWithSecrets,
  description: ({ config }) => `VictoriaLogs (chart, ${config.logging.retention} retention, ${config.logging.storage}) and Vector on every node shipping pod logs to it`,
  values: loggingValues,
  exceptions: loggingExceptions,
  baselineReason: `${READS_POD_LOGS}: restricted admits no hostPath volume; baseline admits it and still refuses privileged containers, host namespaces and added capabilities`,
  network: ({ config }) => ({
    ingress: [{ name: 'queries-from-grafana', pods: { ...LOG_STORE_PODS }, from: [{ namespace: NAMESPACES.grafana, pods: { 'app.kubernetes.io/name': 'grafana' } }], ports: [{ port: LOG_STORE_PORT }] }],
    // Besides the namespace itself (the collector to the store, which addOnNetworkPolicies always allows): the Kubernetes API only.
    egress: [{ name: 'api-server', reason: 'the collector reads pod metadata (namespace, labels) from the API server to label the log lines', to: [toApiServer(config)] }],
  }),
  holdsData: true,
});
export { READS_POD_LOGS };
