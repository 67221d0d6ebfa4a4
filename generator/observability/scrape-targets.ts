/**
 * What Prometheus (namespace monitoring) scrapes: one entry per component,
 * with the pods, port and path it reads. The same entries give the scrape
 * configuration, the egress policy of namespace monitoring and the ingress
 * policy each target's namespace renders, so a target cannot be scraped
 * without both ends of its NetworkPolicy, and no flow is opened that nothing
 * scrapes. Ports were read at the pinned versions (docs/observability.md).
 */
import type { EnvConfig } from '../config/schema.js';
import type { Flow, Peer } from '../k8s/network-policy.js';
import type { Labels } from '../k8s/labels.js';
import { NAMESPACES } from '../platform-names.js';
import { APP_SELECTORS, PORTS } from '../components/shared-flows.js';

/** Ports of the monitoring add-on's own Services (the contract with the dashboards slice). */
export const MONITORING_PORTS = { prometheus: 9090, alertmanager: 9093, kubeStateMetrics: 8080, nodeExporter: 9100 } as const;

/** Port of the redis_exporter sidecar beside Valkey. */
export const REDIS_EXPORTER_PORT = 9121;
/** kubelet (and cAdvisor under /metrics/cadvisor) on every node, HTTPS with the ServiceAccount token. */
export const KUBELET_PORT = 10250;
/** K3s serves etcd's metrics on the node address with `etcd-expose-metrics: true` (bootstrap/node/user-data.sh). */
export const ETCD_METRICS_PORT = 2381;

/** Where the bearer token LiteLLM's /metrics requires is mounted in the Prometheus pod. */
export const LITELLM_TOKEN_FILE = '/etc/secrets/litellm-metrics/token';

interface PodTarget {
  kind: 'pods';
  /** The scrape job; also the `job` label alerts select on. */
  job: string;
  namespace: string;
  pods: Labels;
  port: number;
  path: string;
  /** Bearer token file for targets that require authentication. */
  bearerTokenFile?: string;
  /** Where the metrics come from, at the pinned version. */
  source: string;
}

interface NodeTarget {
  kind: 'nodes';
  job: string;
  port: number;
  path: string;
  scheme: 'http' | 'https';
  /** Only the servers (etcd runs there), or every node. */
  servers: boolean;
  source: string;
}

export type ScrapeTarget = PodTarget | NodeTarget;

/** Every scrape target of the environment. */
export function scrapeTargets(config: EnvConfig): ScrapeTarget[] {
  const targets: ScrapeTarget[] = [
    {
      kind: 'pods',
      job: 'litellm',
      namespace: NAMESPACES.litellm,
      pods: APP_SELECTORS.litellm,
      port: PORTS.litellm,
      path: '/metrics',
      bearerTokenFile: LITELLM_TOKEN_FILE,
      source: 'litellm 1.85.1 integrations/prometheus.py (mounted at /metrics by the prometheus callback); proxy/middleware/prometheus_auth_middleware.py requires a key unless require_auth_for_metrics_endpoint is false',
    },
    { kind: 'pods', job: 'argocd-application-controller', namespace: NAMESPACES.argocd, pods: { 'app.kubernetes.io/name': 'argocd-application-controller' }, port: 8082, path: '/metrics', source: 'argo-helm argo-cd-9.5.2 values.yaml controller.containerPorts.metrics' },
    { kind: 'pods', job: 'argocd-server', namespace: NAMESPACES.argocd, pods: { 'app.kubernetes.io/name': 'argocd-server' }, port: 8083, path: '/metrics', source: 'argo-helm argo-cd-9.5.2 values.yaml server.containerPorts.metrics' },
    { kind: 'pods', job: 'argocd-repo-server', namespace: NAMESPACES.argocd, pods: { 'app.kubernetes.io/name': 'argocd-repo-server' }, port: 8084, path: '/metrics', source: 'argo-helm argo-cd-9.5.2 values.yaml repoServer.containerPorts.metrics' },
    { kind: 'pods', job: 'external-secrets', namespace: NAMESPACES.externalSecrets, pods: { 'app.kubernetes.io/name': 'external-secrets' }, port: 8080, path: '/metrics', source: 'external-secrets helm-chart-2.5.0 values.yaml metrics.listen.port (--metrics-addr)' },
    { kind: 'pods', job: 'longhorn-manager', namespace: NAMESPACES.longhorn, pods: { app: 'longhorn-manager' }, port: 9500, path: '/metrics', source: 'longhorn v1.12.0 chart: longhorn-manager serves its API and /metrics on 9500' },
    {
      kind: 'pods',
      job: 'tailscale-operator',
      namespace: NAMESPACES.tailscale,
      pods: { app: 'operator' },
      port: 8080,
      path: '/metrics',
      source: 'tailscale v1.102.2 cmd/k8s-operator/operator.go sets no Metrics options: controller-runtime v0.19.4 serves /metrics on its default :8080',
    },
  ];
  if (config.redis.enabled) {
    targets.push({ kind: 'pods', job: 'valkey', namespace: NAMESPACES.redis, pods: APP_SELECTORS.redis, port: REDIS_EXPORTER_PORT, path: '/metrics', source: 'redis_exporter sidecar (generator/components/redis.ts)' });
  }
  if (config.publicIngress.enabled) {
    targets.push({ kind: 'pods', job: 'cert-manager', namespace: NAMESPACES.certManager, pods: { 'app.kubernetes.io/name': 'cert-manager', 'app.kubernetes.io/component': 'controller' }, port: 9402, path: '/metrics', source: 'cert-manager v1.19.1 chart: the controller serves /metrics on 9402' });
  }
  targets.push(
    { kind: 'nodes', job: 'kubelet', port: KUBELET_PORT, path: '/metrics', scheme: 'https', servers: false, source: 'kubelet /metrics' },
    { kind: 'nodes', job: 'cadvisor', port: KUBELET_PORT, path: '/metrics/cadvisor', scheme: 'https', servers: false, source: 'kubelet /metrics/cadvisor' },
    { kind: 'nodes', job: 'node-exporter', port: MONITORING_PORTS.nodeExporter, path: '/metrics', scheme: 'http', servers: false, source: 'prometheus-node-exporter 4.56.1 (hostNetwork, port 9100)' },
    { kind: 'nodes', job: 'etcd', port: ETCD_METRICS_PORT, path: '/metrics', scheme: 'http', servers: true, source: 'K3s etcd-expose-metrics: etcd metrics on the node address, port 2381' },
  );
  return targets;
}

/** The node subnets: where the kubelet, node-exporter (host network) and etcd listen. */
export function nodeCidrs(config: EnvConfig): string[] {
  return [config.network.publicSubnetCidr, ...config.network.additionalPublicSubnetCidrs];
}

/** Prometheus pods (the ingress peer of every pod target). */
export const PROMETHEUS_PODS: Labels = { 'app.kubernetes.io/name': 'prometheus', 'app.kubernetes.io/component': 'server' };

const fromPrometheus: Peer = { namespace: NAMESPACES.monitoring, pods: PROMETHEUS_PODS };

/** The ingress flow a target's namespace opens to Prometheus, for the target's own policy. */
export function scrapeIngress(config: EnvConfig, job: string): { pods: Labels; flow: Flow } {
  const target = scrapeTargets(config).find((candidate) => candidate.job === job);
  if (!target || target.kind !== 'pods') throw new Error(`no pod scrape target named ${job} (generator/observability/scrape-targets.ts)`);
  return { pods: target.pods, flow: { peers: [fromPrometheus], ports: [{ port: target.port }] } };
}

/** The same, as an add-on's network() ingress entry. */
export function scrapeIngressForAddOn(config: EnvConfig, job: string): { name: string; pods: Labels; from: Peer[]; ports: { port: number }[] } {
  const { pods, flow } = scrapeIngress(config, job);
  return { name: `scrape-${job}-from-prometheus`, pods, from: flow.peers, ports: flow.ports as { port: number }[] };
}

/** Egress of Prometheus: each pod target on its port, the nodes on their ports, and the Kubernetes API for discovery. */
export function prometheusEgress(config: EnvConfig): Flow[] {
  const targets = scrapeTargets(config);
  const flows: Flow[] = targets.filter((target): target is PodTarget => target.kind === 'pods').map((target) => ({ peers: [{ namespace: target.namespace, pods: target.pods }], ports: [{ port: target.port }] }));
  const nodePorts = [...new Set([...targets.filter((target) => target.kind === 'nodes').map((target) => target.port), KUBERNETES_API_PORT])].sort((a, b) => a - b);
  flows.push({ peers: nodeCidrs(config).map((cidr) => ({ cidr })), ports: nodePorts.map((port) => ({ port })) });
  return flows;
}

/** Where Open WebUI posts its OpenTelemetry metrics: Prometheus's OTLP receiver. */
export const OTLP_METRICS_PATH = '/api/v1/otlp/v1/metrics';

export function toPrometheusOtlp(): Flow {
  return { peers: [fromPrometheus], ports: [{ port: MONITORING_PORTS.prometheus }] };
}

/** The K3s API server listens on the servers' address (the kubernetes Service forwards 443 there). */
export const KUBERNETES_API_PORT = 6443;

type Json = Record<string, unknown>;

function keepPodsLabels(pods: Labels): Json[] {
  return Object.entries(pods).map(([key, value]) => ({
    source_labels: [`__meta_kubernetes_pod_label_${key.replace(/[^A-Za-z0-9_]/g, '_')}`],
    regex: value,
    action: 'keep',
  }));
}

const POD_LABELS: Json[] = [
  { source_labels: ['__meta_kubernetes_namespace'], target_label: 'namespace' },
  { source_labels: ['__meta_kubernetes_pod_name'], target_label: 'pod' },
];

const IN_CLUSTER_TLS = { ca_file: '/var/run/secrets/kubernetes.io/serviceaccount/ca.crt', insecure_skip_verify: true };
const SA_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';

/** Prometheus scrape_configs for the targets; pods are reached on their IP and the target port. */
export function scrapeConfigs(config: EnvConfig): Json[] {
  const jobs: Json[] = [{ job_name: 'prometheus', static_configs: [{ targets: [`localhost:${MONITORING_PORTS.prometheus}`] }] }];
  for (const target of scrapeTargets(config)) {
    if (target.kind === 'pods') {
      jobs.push({
        job_name: target.job,
        metrics_path: target.path,
        ...(target.bearerTokenFile ? { authorization: { type: 'Bearer', credentials_file: target.bearerTokenFile } } : {}),
        kubernetes_sd_configs: [{ role: 'pod', namespaces: { names: [target.namespace] } }],
        relabel_configs: [
          ...keepPodsLabels(target.pods),
          { source_labels: ['__meta_kubernetes_pod_phase'], regex: 'Running', action: 'keep' },
          // One target per pod, whether or not the container declares the port.
          { source_labels: ['__meta_kubernetes_pod_container_init'], regex: 'true', action: 'drop' },
          { source_labels: ['__meta_kubernetes_pod_ip'], regex: '(.+)', replacement: `$1:${target.port}`, target_label: '__address__' },
          ...POD_LABELS,
        ],
      });
      continue;
    }
    jobs.push({
      job_name: target.job,
      scheme: target.scheme,
      metrics_path: target.path,
      ...(target.scheme === 'https' ? { tls_config: IN_CLUSTER_TLS, authorization: { type: 'Bearer', credentials_file: SA_TOKEN } } : {}),
      kubernetes_sd_configs: [{ role: 'node' }],
      relabel_configs: [
        ...(target.servers ? [{ source_labels: ['__meta_kubernetes_node_label_node_role_kubernetes_io_control_plane'], regex: 'true', action: 'keep' }] : []),
        { source_labels: ['__meta_kubernetes_node_address_InternalIP'], regex: '(.+)', replacement: `$1:${target.port}`, target_label: '__address__' },
        { source_labels: ['__meta_kubernetes_node_name'], target_label: 'node' },
      ],
    });
  }
  jobs.push({
    job_name: 'kube-state-metrics',
    kubernetes_sd_configs: [{ role: 'service', namespaces: { names: [NAMESPACES.monitoring] } }],
    relabel_configs: [
      { source_labels: ['__meta_kubernetes_service_label_app_kubernetes_io_name'], regex: 'kube-state-metrics', action: 'keep' },
      { source_labels: ['__meta_kubernetes_service_port_name'], regex: 'http', action: 'keep' },
    ],
  });
  jobs.push({ job_name: 'alertmanager', static_configs: [{ targets: [`alertmanager.${NAMESPACES.monitoring}.svc:${MONITORING_PORTS.alertmanager}`] }] });
  return jobs;
}
