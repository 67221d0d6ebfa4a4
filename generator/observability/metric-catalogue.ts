/**
 * The metric catalogue: for each component the platform runs, the metric names
 * it exports at the version the repository pins, each read from the upstream
 * source at that version (the `source` of the entry names the repository, tag
 * and file). Dashboards and alert rules may only name metrics listed here
 * (test/metric-catalogue.test.ts checks every dashboard query).
 *
 * Names are the names Prometheus stores, not the names in the code:
 * - Python prometheus_client appends `_total` to a Counter's name unless it
 *   already ends with it (LiteLLM);
 * - a histogram is stored as `<name>_bucket`, `<name>_sum` and `<name>_count`
 *   (resolved by {@link catalogueEntry});
 * - OTLP metrics (Open WebUI) are named by Prometheus's OTLP translation with
 *   its default suffixes: dots become `_`, the unit is appended
 *   (`ms` → `milliseconds`), and monotonic sums get `_total`.
 */

export type MetricType = 'counter' | 'gauge' | 'histogram';

export interface UpstreamSource {
  /** `owner/name` of the upstream repository, or the installed package. */
  repository: string;
  /** The tag (or package version) the file was read at. */
  ref: string;
  file: string;
}

export interface CatalogueMetric {
  /** The name as Prometheus stores it (for a histogram: without `_bucket`/`_sum`/`_count`). */
  name: string;
  type: MetricType;
  /** Labels the dashboards rely on (the metric may carry more). */
  labels: readonly string[];
  source: UpstreamSource;
}

export interface CatalogueComponent {
  component: string;
  version: string;
  /**
   * How the metrics reach Prometheus: the scrape job (namespace monitoring's
   * scrape configuration, slice C1) or `otlp-receiver` for OTLP pushed into Prometheus.
   * Undefined when nothing scrapes the component: its metrics cannot be used.
   */
  scrapedBy?: string;
  /** Where the version comes from, when it is not the component's own pin. */
  versionNote?: string;
  metrics: readonly CatalogueMetric[];
}

const at = (repository: string, ref: string, file: string): UpstreamSource => ({ repository, ref, file });
const metric = (name: string, type: MetricType, labels: readonly string[], source: UpstreamSource): CatalogueMetric => ({ name, type, labels, source });

// --- LiteLLM 1.85.1 (PyPI litellm==1.85.1, read in the installed package) ---
const LITELLM_METRICS_FILE = at('pypi:litellm', '1.85.1', 'litellm/integrations/prometheus.py');
const LITELLM_LABELS_FILE = at('pypi:litellm', '1.85.1', 'litellm/types/integrations/prometheus.py');
const litellm = (name: string, type: MetricType, labels: readonly string[]) => metric(name, type, labels, LITELLM_METRICS_FILE);

// --- Open WebUI 0.11.0 (PyPI open-webui==0.11.0), OTLP into Prometheus's receiver ---
const OPEN_WEBUI_FILE = at('pypi:open-webui', '0.11.0', 'open_webui/utils/telemetry/metrics.py');

const ARGOCD = at('argoproj/argo-cd', 'v3.3.7', 'controller/metrics/metrics.go');
const ESO = at('external-secrets/external-secrets', 'v2.5.0', 'pkg/controllers/externalsecret/esmetrics/esmetrics.go');
const ESO_LABELS = at('external-secrets/external-secrets', 'v2.5.0', 'pkg/controllers/metrics/labels.go');
const longhornFile = (file: string) => at('longhorn/longhorn-manager', 'v1.12.0', `metrics_collector/${file}`);
const ksmFile = (file: string) => at('kubernetes/kube-state-metrics', 'v2.20.0', `internal/store/${file}`);
const nodeExporterFile = (file: string) => at('prometheus/node_exporter', 'v1.12.1', `collector/${file}`);
/** The operator is a controller-runtime manager (tailscale v1.102.2 go.mod: sigs.k8s.io/controller-runtime v0.19.4). */
const CONTROLLER_RUNTIME = at('kubernetes-sigs/controller-runtime', 'v0.19.4', 'pkg/internal/controller/metrics/metrics.go');
const CONTROLLER_RUNTIME_WORKQUEUE = at('kubernetes-sigs/controller-runtime', 'v0.19.4', 'pkg/metrics/workqueue.go');

export const METRIC_CATALOGUE: readonly CatalogueComponent[] = [
  {
    component: 'litellm',
    version: '1.85.1',
    scrapedBy: 'litellm',
    versionNote: `label sets from ${LITELLM_LABELS_FILE.file} (PrometheusMetricLabels); counters carry prometheus_client's _total suffix`,
    metrics: [
      litellm('litellm_proxy_total_requests_metric_total', 'counter', ['requested_model', 'team', 'team_alias', 'status_code']),
      litellm('litellm_proxy_failed_requests_metric_total', 'counter', ['requested_model', 'team', 'team_alias', 'exception_status', 'exception_class']),
      litellm('litellm_request_total_latency_metric', 'histogram', ['model', 'requested_model', 'team']),
      litellm('litellm_llm_api_latency_metric', 'histogram', ['model', 'requested_model', 'team']),
      litellm('litellm_llm_api_time_to_first_token_metric', 'histogram', ['model']),
      litellm('litellm_spend_metric_total', 'counter', ['model', 'team', 'team_alias', 'api_provider']),
      litellm('litellm_total_tokens_metric_total', 'counter', ['model', 'team', 'team_alias']),
      litellm('litellm_input_tokens_metric_total', 'counter', ['model', 'team', 'team_alias']),
      litellm('litellm_output_tokens_metric_total', 'counter', ['model', 'team', 'team_alias']),
      litellm('litellm_remaining_team_budget_metric', 'gauge', ['team', 'team_alias']),
      litellm('litellm_deployment_state', 'gauge', ['litellm_model_name', 'api_provider']),
      litellm('litellm_deployment_success_responses_total', 'counter', ['litellm_model_name', 'api_provider']),
      litellm('litellm_deployment_failure_responses_total', 'counter', ['litellm_model_name', 'api_provider', 'exception_status']),
      litellm('litellm_deployment_total_requests_total', 'counter', ['litellm_model_name', 'api_provider']),
      litellm('litellm_deployment_latency_per_output_token', 'histogram', ['litellm_model_name', 'api_provider']),
      litellm('litellm_overhead_latency_metric', 'histogram', ['model_group', 'api_provider']),
      litellm('litellm_deployment_cooled_down_total', 'counter', ['litellm_model_name', 'api_provider']),
    ],
  },
  {
    component: 'open-webui',
    version: '0.11.0',
    // Open WebUI pushes OTLP over HTTP to Prometheus's own OTLP receiver (generator/addons/monitoring.ts, OTLP_METRICS_PATH in scrape-targets.ts).
    scrapedBy: 'otlp-receiver',
    versionNote: 'OTLP instruments http.server.requests (counter, unit 1), http.server.duration (histogram, unit ms) and the webui.users.* gauges (unit users), as Prometheus\'s OTLP receiver names them with its default translation (underscore escaping with suffixes); the resource attribute service.name (OTEL_SERVICE_NAME=open-webui) becomes the job label. Translation rules read in prometheus/otlptranslator metric_namer.go (normalizeName: unit map ms → milliseconds and 1 → nothing, _total for monotonic counters, an unknown unit such as users appended as it is, unless the name already holds it as a word: webui.users.total has "users", so it stays webui_users_total). Observed: the real Prometheus of the system test (v0.316.0, the OTLP receiver with the rendered otlp settings) stored webui_users_total, webui_users_active and webui_users_active_today from a running Open WebUI 0.11.0; the earlier names with a _users suffix were never stored',
    metrics: [
      metric('http_server_requests_total', 'counter', ['job', 'http_method', 'http_route', 'http_status_code'], OPEN_WEBUI_FILE),
      metric('http_server_duration_milliseconds', 'histogram', ['job', 'http_method', 'http_route', 'http_status_code'], OPEN_WEBUI_FILE),
      metric('webui_users_total', 'gauge', ['job'], OPEN_WEBUI_FILE),
      metric('webui_users_active', 'gauge', ['job'], OPEN_WEBUI_FILE),
      metric('webui_users_active_today', 'gauge', ['job'], OPEN_WEBUI_FILE),
    ],
  },
  {
    component: 'argocd',
    version: 'v3.3.7',
    scrapedBy: 'argocd-application-controller',
    metrics: [
      metric('argocd_app_info', 'gauge', ['namespace', 'name', 'project', 'sync_status', 'health_status'], ARGOCD),
      metric('argocd_app_sync_total', 'counter', ['namespace', 'name', 'project', 'phase'], ARGOCD),
      metric('argocd_app_reconcile', 'histogram', ['namespace', 'dest_server'], ARGOCD),
      metric('argocd_app_k8s_request_total', 'counter', ['namespace', 'name', 'project', 'response_code'], ARGOCD),
      metric('argocd_app_condition', 'gauge', ['namespace', 'name', 'project', 'condition'], ARGOCD),
    ],
  },
  {
    component: 'external-secrets',
    version: 'v2.5.0',
    scrapedBy: 'external-secrets',
    versionNote: `label names from ${ESO_LABELS.file}`,
    metrics: [
      metric('externalsecret_status_condition', 'gauge', ['name', 'namespace', 'condition', 'status'], ESO),
      metric('externalsecret_sync_calls_total', 'counter', ['name', 'namespace'], ESO),
      metric('externalsecret_sync_calls_error', 'counter', ['name', 'namespace'], ESO),
      metric('externalsecret_reconcile_duration', 'gauge', ['name', 'namespace'], ESO),
    ],
  },
  {
    component: 'longhorn',
    version: 'v1.12.0',
    scrapedBy: 'longhorn-manager',
    versionNote: 'the metrics live in longhorn/longhorn-manager at the same tag as the longhorn chart (v1.12.0); names are BuildFQName("longhorn", subsystem, name)',
    metrics: [
      metric('longhorn_volume_robustness', 'gauge', ['volume', 'node'], longhornFile('volume_collector.go')),
      metric('longhorn_volume_state', 'gauge', ['volume', 'node'], longhornFile('volume_collector.go')),
      metric('longhorn_volume_capacity_bytes', 'gauge', ['volume', 'node'], longhornFile('volume_collector.go')),
      metric('longhorn_volume_actual_size_bytes', 'gauge', ['volume', 'node'], longhornFile('volume_collector.go')),
      metric('longhorn_volume_last_backup_at', 'gauge', ['volume'], longhornFile('volume_collector.go')),
      metric('longhorn_backup_state', 'gauge', ['backup', 'volume'], longhornFile('backup_collector.go')),
      metric('longhorn_backup_volume_backups_count', 'gauge', ['backup_volume'], longhornFile('backup_volume_collector.go')),
      metric('longhorn_node_storage_capacity_bytes', 'gauge', ['node'], longhornFile('node_collector.go')),
      metric('longhorn_node_storage_usage_bytes', 'gauge', ['node'], longhornFile('node_collector.go')),
      metric('longhorn_node_status', 'gauge', ['node', 'condition'], longhornFile('node_collector.go')),
    ],
  },
  {
    component: 'tailscale-operator',
    version: 'v1.102.2',
    scrapedBy: 'tailscale-operator',
    versionNote: 'cmd/k8s-operator at v1.102.2 sets no metrics options, so /metrics (:8080) serves the controller-runtime registry; its clientmetric gauges (e.g. k8s_proxyclass_resources) are not registered there and are not listed. External Secrets serves the same controller-runtime names; they are catalogued once, here',
    metrics: [
      metric('controller_runtime_reconcile_total', 'counter', ['controller', 'result'], CONTROLLER_RUNTIME),
      metric('controller_runtime_reconcile_errors_total', 'counter', ['controller'], CONTROLLER_RUNTIME),
      metric('controller_runtime_reconcile_time_seconds', 'histogram', ['controller'], CONTROLLER_RUNTIME),
      metric('workqueue_depth', 'gauge', ['name'], CONTROLLER_RUNTIME_WORKQUEUE),
    ],
  },
  {
    component: 'kube-state-metrics',
    version: 'v2.20.0',
    scrapedBy: 'kube-state-metrics',
    versionNote: 'the version the prometheus chart 29.27.0 (slice C1) bundles: subchart kube-state-metrics 8.4.0, appVersion 2.20.0',
    metrics: [
      metric('kube_node_status_condition', 'gauge', ['node', 'condition', 'status'], ksmFile('node.go')),
      metric('kube_node_status_allocatable', 'gauge', ['node', 'resource', 'unit'], ksmFile('node.go')),
      metric('kube_pod_container_status_restarts_total', 'counter', ['namespace', 'pod', 'container'], ksmFile('pod.go')),
      metric('kube_pod_status_phase', 'gauge', ['namespace', 'pod', 'phase'], ksmFile('pod.go')),
      metric('kube_pod_container_status_waiting_reason', 'gauge', ['namespace', 'pod', 'container', 'reason'], ksmFile('pod.go')),
      metric('kube_deployment_status_replicas_available', 'gauge', ['namespace', 'deployment'], ksmFile('deployment.go')),
      metric('kube_persistentvolumeclaim_status_phase', 'gauge', ['namespace', 'persistentvolumeclaim', 'phase'], ksmFile('persistentvolumeclaim.go')),
    ],
  },
  {
    component: 'node-exporter',
    version: 'v1.12.1',
    scrapedBy: 'node-exporter',
    versionNote: 'the version the prometheus chart 29.27.0 (slice C1) bundles: subchart prometheus-node-exporter 4.56.1, appVersion 1.12.1; meminfo names are node_memory_<field>_bytes from /proc/meminfo',
    metrics: [
      metric('node_cpu_seconds_total', 'counter', ['node', 'cpu', 'mode'], nodeExporterFile('cpu_common.go')),
      metric('node_memory_MemAvailable_bytes', 'gauge', ['node'], nodeExporterFile('meminfo.go')),
      metric('node_memory_MemTotal_bytes', 'gauge', ['node'], nodeExporterFile('meminfo.go')),
      metric('node_filesystem_avail_bytes', 'gauge', ['node', 'mountpoint', 'fstype'], nodeExporterFile('filesystem_common.go')),
      metric('node_filesystem_size_bytes', 'gauge', ['node', 'mountpoint', 'fstype'], nodeExporterFile('filesystem_common.go')),
    ],
  },
];

const HISTOGRAM_SERIES = ['_bucket', '_sum', '_count'] as const;

export interface CatalogueMatch {
  component: CatalogueComponent;
  metric: CatalogueMetric;
}

/** The catalogue entry a stored series name belongs to (a histogram's `_bucket`/`_sum`/`_count` resolve to the histogram). */
export function catalogueEntry(name: string, catalogue: readonly CatalogueComponent[] = METRIC_CATALOGUE): CatalogueMatch | undefined {
  for (const component of catalogue) {
    for (const candidate of component.metrics) {
      if (candidate.name === name && candidate.type !== 'histogram') return { component, metric: candidate };
      if (candidate.type === 'histogram' && HISTOGRAM_SERIES.some((suffix) => name === `${candidate.name}${suffix}`)) return { component, metric: candidate };
    }
  }
  return undefined;
}
