/**
 * The metrics store and alerting, namespace monitoring: the
 * prometheus-community `prometheus` chart (Prometheus server without the
 * operator, so no CRDs, a plain scrape configuration and rule files promtool
 * tests) with its Alertmanager, kube-state-metrics and node-exporter
 * dependencies. Scrape targets and their NetworkPolicies come from
 * generator/observability/scrape-targets.ts, the rules from
 * generator/observability/alert-rules.ts; Alertmanager's configuration is
 * templated by an ExternalSecret from the webhook URL in Secrets Manager.
 * Open WebUI pushes its OpenTelemetry metrics to Prometheus's own OTLP
 * receiver (docs/observability.md says why there is no collector).
 */
import { Construct } from 'constructs';
import { stringify } from 'yaml';
import { APPLICATION_WAVE, type ChartException } from '../argocd/application.js';
import type { RenderContext } from '../components/component.js';
import { MASTER_KEY_TEMPLATE, litellmMasterKey } from '../components/secret-values.js';
import { APP_SELECTORS } from '../components/shared-flows.js';
import { ExternalSecret } from '../k8s/external-secret.js';
import { restrictedContainerSecurityContext, restrictedPodSecurityContext } from '../k8s/security.js';
import { alertingRulesFile, kubeStateMetricsCustomResources } from '../observability/alert-rules.js';
import { LITELLM_TOKEN_FILE, MONITORING_PORTS, PROMETHEUS_PODS, prometheusEgress, scrapeConfigs } from '../observability/scrape-targets.js';
import { MANUAL_SECRETS, NAMESPACES, STORAGE_CLASS, secretsManagerName } from '../platform-names.js';
import { podSecurityNamespace } from '../k8s/namespace.js';
import { memoryBytes } from '../cluster/capacity.js';
import { chartAddOn, type AddOn } from './addon.js';
import { addOnNetworkPolicies, toInternet } from './network.js';

const NAME = 'monitoring';
const NAMESPACE = NAMESPACES.monitoring;
/** The nobody user the Prometheus images run as. */
const RUN_AS = { uid: 65534, gid: 65534 };
export const LITELLM_TOKEN_SECRET = 'litellm-metrics-token';
export const ALERTMANAGER_CONFIG_SECRET = 'alertmanager-config';
const ALERTMANAGER_CONFIG_DIR = '/etc/alertmanager-config';

/** Scrape jobs the chart's values.yaml defines (prometheus-29.27.0); all are turned off. */
const CHART_DEFAULT_JOBS = [
  'kubernetes-api-servers', 'kubernetes-nodes', 'kubernetes-nodes-cadvisor', 'kubernetes-service-endpoints', 'kubernetes-service-endpoints-slow',
  'prometheus-pushgateway', 'kubernetes-services', 'kubernetes-pods', 'kubernetes-pods-slow',
];

const resources = (cpu: string, memory: string, memoryLimit: string) => ({ requests: { cpu, memory }, limits: { memory: memoryLimit } });
const podSecurity = () => restrictedPodSecurityContext(RUN_AS);
const containerSecurity = () => restrictedContainerSecurityContext();

/** 80 % of the volume, in Prometheus's units (MB = MiB). */
export function retentionSize(storageSize: string): string {
  return `${Math.floor((memoryBytes(storageSize) * 0.8) / 2 ** 20)}MB`;
}

/** Values of the prometheus chart. */
export function monitoringValues({ config }: RenderContext): Record<string, unknown> {
  const reload = {
    enabled: true,
    resources: resources('5m', '16Mi', '64Mi'),
    containerSecurityContext: containerSecurity(),
    // The chart probes /healthz for both; readiness is the metrics page the reloader serves on the same port.
    readinessProbe: { httpGet: { path: '/metrics', port: 'metrics', scheme: 'HTTP' }, periodSeconds: 10 },
  };
  return {
    configmapReload: { prometheus: reload },
    server: {
      fullnameOverride: 'prometheus',
      retention: config.monitoring.retention,
      // Samples are dropped before the volume fills, whatever the retention says.
      retentionSize: retentionSize(config.monitoring.storageSize),
      // One Prometheus owning its volume: a StatefulSet, never two pods on one ReadWriteOnce volume.
      statefulSet: { enabled: true },
      persistentVolume: { enabled: true, size: config.monitoring.storageSize, storageClass: STORAGE_CLASS },
      service: { servicePort: MONITORING_PORTS.prometheus },
      resources: resources('100m', '512Mi', '1536Mi'),
      securityContext: podSecurity(),
      containerSecurityContext: containerSecurity(),
      extraFlags: ['web.enable-lifecycle', 'web.enable-otlp-receiver'],
      // Open WebUI's OpenTelemetry resource attributes become labels (service_name = job).
      otlp: { promote_resource_attributes: ['service.name', 'service.instance.id'] },
      extraSecretMounts: [{ name: 'litellm-metrics', mountPath: LITELLM_TOKEN_FILE.replace(/\/[^/]+$/, ''), secretName: LITELLM_TOKEN_SECRET, readOnly: true }],
    },
    // The chart's own jobs scrape every annotated pod and service; only the repository's targets are scraped.
    scrapeConfigs: {
      ...Object.fromEntries(CHART_DEFAULT_JOBS.map((job) => [job, { enabled: false }])),
      ...Object.fromEntries(scrapeConfigs(config).map(({ job_name, ...job }) => [job_name, job])),
    },
    serverFiles: { 'alerting_rules.yml': alertingRulesFile(config) },
    alertmanager: {
      enabled: true,
      fullnameOverride: 'alertmanager',
      config: { enabled: false },
      extraArgs: { 'config.file': `${ALERTMANAGER_CONFIG_DIR}/alertmanager.yml` },
      extraSecretMounts: [{ name: 'config', mountPath: ALERTMANAGER_CONFIG_DIR, secretName: ALERTMANAGER_CONFIG_SECRET, readOnly: true }],
      persistence: { enabled: true, size: config.monitoring.alertmanagerStorageSize, storageClass: STORAGE_CLASS },
      resources: resources('10m', '32Mi', '128Mi'),
      podSecurityContext: podSecurity(),
      securityContext: containerSecurity(),
      automountServiceAccountToken: false,
      livenessProbe: { httpGet: { path: '/-/healthy', port: 'http' }, periodSeconds: 30, failureThreshold: 3 },
      readinessProbe: { httpGet: { path: '/-/ready', port: 'http' }, periodSeconds: 10, failureThreshold: 3 },
    },
    'kube-state-metrics': {
      resources: resources('10m', '64Mi', '256Mi'),
      securityContext: podSecurity(),
      containerSecurityContext: containerSecurity(),
      customResourceState: { enabled: true, config: kubeStateMetricsCustomResources() },
      rbac: {
        extraRules: [
          { apiGroups: ['longhorn.io'], resources: ['backups'], verbs: ['list', 'watch'] },
          { apiGroups: ['k3s.cattle.io'], resources: ['etcdsnapshotfiles'], verbs: ['list', 'watch'] },
        ],
      },
    },
    'prometheus-node-exporter': {
      namespaceOverride: NAMESPACES.nodeExporter,
      resources: resources('10m', '32Mi', '64Mi'),
      containerSecurityContext: containerSecurity(),
      // The chart writes path / and its metrics port into both probes whatever the values say (kube-score's
      // pod-probes-identical is allowed for it); only the timings and the scheme are read from here.
      livenessProbe: { httpGet: { scheme: 'HTTP' }, periodSeconds: 30, timeoutSeconds: 5, failureThreshold: 3 },
      readinessProbe: { httpGet: { scheme: 'HTTP' }, periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 3 },
    },
    'prometheus-pushgateway': { enabled: false },
  };
}

/** ESO templates `{{ … }}` too: Alertmanager's own templates are written as ESO string literals. */
function literalForExternalSecrets(text: string): string {
  return text.replace(/\{\{|\}\}/g, (braces) => `{{ "${braces}" }}`);
}

/** alertmanager.yml, with the webhook URL left as an ESO template. */
export function alertmanagerConfig(): string {
  const text = literalForExternalSecrets('[{{ .Status | toUpper }}] {{ .CommonLabels.alertname }} ({{ .CommonLabels.environment }})');
  const body = literalForExternalSecrets('{{ range .Alerts }}{{ .Annotations.summary }}\nFirst: {{ .Annotations.runbook }}\n{{ end }}');
  return stringify(
    {
      route: { receiver: 'webhook', group_by: ['alertname', 'namespace'], group_wait: '30s', group_interval: '5m', repeat_interval: '4h' },
      receivers: [{ name: 'webhook', slack_configs: [{ api_url: '{{ .webhookUrl }}', send_resolved: true, title: text, text: body }] }],
    },
    { lineWidth: 0 },
  );
}

const READS_THE_HOST = 'node-exporter reports the node itself (CPU, memory, every filesystem, network): it reads /proc, /sys and / of the host with the host\'s network and PID namespaces, read-only, in its own privileged namespace monitoring-node';

/** What the chart renders that the policy rules would refuse, and why it is right here. */
export function monitoringExceptions(): ChartException[] {
  return [
    { kind: 'StatefulSet', name: 'prometheus', allow: { 'service-account-token-automount': 'Prometheus discovers its scrape targets (pods, nodes, services) and scrapes the kubelet with its ServiceAccount, read-only (the chart\'s ClusterRole prometheus)' } },
    { kind: 'Deployment', name: 'prometheus-kube-state-metrics', allow: { 'service-account-token-automount': 'kube-state-metrics lists and watches the objects it reports on through the API, read-only (its ClusterRole)' } },
    {
      kind: 'DaemonSet',
      name: 'prometheus-prometheus-node-exporter',
      allow: { 'host-namespaces': READS_THE_HOST, 'host-path-volume': READS_THE_HOST, 'restricted-volume-types': READS_THE_HOST },
    },
  ];
}

const NODE_EXPORTER_PRIVILEGED =
  'node-exporter needs hostNetwork, hostPID and read-only hostPath mounts of /proc, /sys and /, which both the baseline and the restricted profile forbid; nothing else runs in this namespace';

export const monitoring: AddOn = chartAddOn({
  folder: NAME,
  namespace: NAMESPACE,
  chart: 'prometheus',
  releaseName: 'prometheus',
  wave: APPLICATION_WAVE.addOnsWithSecrets,
  description: ({ config }) => `Prometheus (chart, retention ${config.monitoring.retention}, ${config.monitoring.storageSize} on Longhorn), Alertmanager, kube-state-metrics and node-exporter; scrape targets and alert rules from the repository`,
  values: monitoringValues,
  exceptions: monitoringExceptions,
  network: ({ config }) => ({
    ingress: [
      { name: 'prometheus-from-grafana', pods: PROMETHEUS_PODS, from: [{ namespace: 'grafana' }], ports: [{ port: MONITORING_PORTS.prometheus }] },
      { name: 'alertmanager-from-grafana', pods: { 'app.kubernetes.io/name': 'alertmanager' }, from: [{ namespace: 'grafana' }], ports: [{ port: MONITORING_PORTS.alertmanager }] },
      { name: 'otlp-from-open-webui', pods: PROMETHEUS_PODS, from: [{ namespace: NAMESPACES.openWebUI, pods: APP_SELECTORS.openWebUI }], ports: [{ port: MONITORING_PORTS.prometheus }] },
    ],
    egress: [
      { name: 'scrape', reason: 'Prometheus scrapes the targets of generator/observability/scrape-targets.ts (pods, and the nodes for kubelet, etcd and node-exporter); Prometheus and kube-state-metrics read the API server', to: prometheusEgress(config) },
      { name: 'webhook', reason: 'Alertmanager posts alerts to the webhook URL from Secrets Manager over HTTPS', pods: { 'app.kubernetes.io/name': 'alertmanager' }, to: [toInternet([{ port: 443 }])] },
    ],
  }),
  holdsData: true,
  build(chart, { config, kubernetes }, labels) {
    const nodeExporter = new Construct(chart, NAMESPACES.nodeExporter);
    podSecurityNamespace(nodeExporter, { name: NAMESPACES.nodeExporter, labels, kubernetes, holdsData: false, level: 'privileged', exceptionReason: NODE_EXPORTER_PRIVILEGED });
    // Its pod is on the host network, where NetworkPolicies do not apply; the baseline still closes everything else.
    addOnNetworkPolicies(nodeExporter, { namespace: NAMESPACES.nodeExporter, labels, egress: [] });
    new ExternalSecret(chart, {
      name: LITELLM_TOKEN_SECRET,
      namespace: NAMESPACE,
      labels,
      values: [litellmMasterKey(config)],
      template: { token: MASTER_KEY_TEMPLATE },
    });
    new ExternalSecret(chart, {
      name: ALERTMANAGER_CONFIG_SECRET,
      namespace: NAMESPACE,
      labels,
      values: [{ secretKey: 'webhookUrl', remoteKey: secretsManagerName(config, MANUAL_SECRETS.alertmanagerWebhook) }],
      template: { 'alertmanager.yml': alertmanagerConfig() },
    });
  },
});
