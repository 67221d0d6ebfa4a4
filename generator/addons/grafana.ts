/**
 * Grafana in namespace `grafana`: the dashboards of generator/observability
 * provisioned from files (one ConfigMap per dashboard, mounted by the chart;
 * no sidecar, so the pod needs no ServiceAccount token), Prometheus and
 * Alertmanager as datasources, the admin password from Secrets Manager, its
 * SQLite database on a Longhorn volume, and its UI on the tailnet only.
 * Grafana reaches nothing but DNS, Prometheus and Alertmanager: no plugin or
 * update downloads.
 */
import { ApiObject } from 'cdk8s';
import { APPLICATION_WAVE, type ChartException } from '../argocd/application.js';
import type { RenderContext } from '../components/component.js';
import type { EnvConfig } from '../config/schema.js';
import { ExternalSecret } from '../k8s/external-secret.js';
import { DATA_SAFETY_ANNOTATIONS } from '../k8s/sync-waves.js';
import { DASHBOARDS } from '../observability/dashboards/index.js';
import { dashboardConfigMap, PROMETHEUS_DATASOURCE_UID } from '../observability/dashboards/builder.js';
import { GENERATED_SECRETS, NAMESPACES, STORAGE_CLASS, secretsManagerName } from '../platform-names.js';
import { chartAddOn, type AddOn } from './addon.js';
import { tailnetIngress } from './ingress.js';
import { LOG_STORE_PODS, LOG_STORE_PORT } from './logging.js';

const NAME = 'grafana';
export const GRAFANA_ADMIN_SECRET = 'grafana-admin';
/** Grafana's HTTP port in the pod (the chart's Service listens on 80). */
const GRAFANA_PORT = 3000;
const SERVICE_PORT = 80;
/** The contract with the metrics slice (namespace monitoring). */
export const PROMETHEUS_URL = `http://prometheus.${NAMESPACES.monitoring}.svc:9090`;
export const ALERTMANAGER_URL = `http://alertmanager.${NAMESPACES.monitoring}.svc:9093`;
/** Where the dashboard files are mounted; the file provider reads this folder. */
const DASHBOARD_FOLDER = '/var/lib/grafana/dashboards/dubai-hub';

export function grafanaHostname(config: EnvConfig): string {
  return config.grafana.hostname ?? `grafana-${config.name}`;
}

export function grafanaValues({ config }: RenderContext): Record<string, unknown> {
  const host = `${grafanaHostname(config)}.${config.hostnames.tailnetDomain}`;
  return {
    replicas: 1,
    // Nothing in the pod calls the Kubernetes API (no sidecar): no token.
    automountServiceAccountToken: false,
    serviceAccount: { automountServiceAccountToken: false },
    rbac: { create: false },
    testFramework: { enabled: false },
    admin: { existingSecret: GRAFANA_ADMIN_SECRET, userKey: 'admin-user', passwordKey: 'admin-password' },
    // SQLite on a Longhorn volume; the volume is written by uid/gid 472 through fsGroup, so no root chown init container.
    persistence: { enabled: true, type: 'pvc', storageClassName: STORAGE_CLASS, size: config.grafana.storage, accessModes: ['ReadWriteOnce'], annotations: DATA_SAFETY_ANNOTATIONS },
    initChownData: { enabled: false },
    deploymentStrategy: { type: 'Recreate' },
    securityContext: { runAsNonRoot: true, runAsUser: 472, runAsGroup: 472, fsGroup: 472, seccompProfile: { type: 'RuntimeDefault' } },
    containerSecurityContext: { allowPrivilegeEscalation: false, privileged: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] }, seccompProfile: { type: 'RuntimeDefault' } },
    extraEmptyDirMounts: [{ name: 'tmp', mountPath: '/tmp' }],
    resources: { requests: { cpu: '50m', memory: '128Mi' }, limits: { memory: '384Mi' } },
    // Liveness is Grafana's process check (/healthz); readiness keeps the chart's /api/health, which also checks the database.
    livenessProbe: { httpGet: { path: '/healthz', port: 'grafana' }, initialDelaySeconds: 60, timeoutSeconds: 30, failureThreshold: 10 },
    'grafana.ini': {
      server: { root_url: `https://${host}` },
      analytics: { reporting_enabled: false, check_for_updates: false, check_for_plugin_updates: false, feedback_links_enabled: false },
      // Grafana 12+ installs plugins from grafana.com in the background at every start unless told not to; egress would refuse it.
      plugins: { public_key_retrieval_disabled: true, preinstall_disabled: true, preinstall_auto_update: false },
      snapshots: { external_enabled: false },
      news: { news_feed_enabled: false },
      users: { allow_sign_up: false },
      'auth.anonymous': { enabled: false },
      dashboards: { default_home_dashboard_path: `${DASHBOARD_FOLDER}/hub.json` },
    },
    datasources: {
      'datasources.yaml': {
        apiVersion: 1,
        datasources: [
          { name: 'Prometheus', uid: PROMETHEUS_DATASOURCE_UID, type: 'prometheus', access: 'proxy', url: PROMETHEUS_URL, isDefault: true, editable: false, jsonData: { timeInterval: '30s' } },
          { name: 'Alertmanager', uid: 'alertmanager', type: 'alertmanager', access: 'proxy', url: ALERTMANAGER_URL, editable: false, jsonData: { implementation: 'prometheus', handleGrafanaManagedAlerts: false } },
        ],
      },
    },
    dashboardProviders: {
      'dashboardproviders.yaml': {
        apiVersion: 1,
        providers: [{ name: 'dubai-hub', folder: 'DubAI hub', type: 'file', disableDeletion: true, allowUiUpdates: false, options: { path: DASHBOARD_FOLDER } }],
      },
    },
    dashboardsConfigMaps: { 'dubai-hub': 'dashboards' },
  };
}

/** One ConfigMap with every dashboard's JSON: the chart mounts it at the file provider's folder. */
function dashboardsConfigMap(labels: Record<string, string>): Record<string, unknown> {
  const data = Object.assign({}, ...DASHBOARDS.map((dashboard) => (dashboardConfigMap(dashboard, NAMESPACES.grafana, labels) as { data: Record<string, string> }).data));
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'dashboards', namespace: NAMESPACES.grafana, labels }, data };
}

export function grafanaExceptions(): ChartException[] {
  return [];
}

export const grafana: AddOn = chartAddOn({
  folder: NAME,
  namespace: NAMESPACES.grafana,
  chart: 'grafana',
  releaseName: NAME,
  wave: APPLICATION_WAVE.addOnsWithSecrets,
  description: ({ config }) => `Grafana (chart) with the hub and platform dashboards, on the tailnet as ${grafanaHostname(config)}`,
  values: grafanaValues,
  exceptions: grafanaExceptions,
  network: () => ({
    ingress: [{ name: 'ui-from-tailscale', pods: { 'app.kubernetes.io/name': NAME }, from: [{ namespace: NAMESPACES.tailscale }], ports: [{ port: GRAFANA_PORT }] }],
    // Only the datasources: Prometheus and Alertmanager in namespace monitoring. No internet (no plugin or update downloads).
    egress: [
      {
        name: 'datasources',
        reason: 'Grafana queries its datasources: Prometheus and Alertmanager in monitoring, the log store in logging',
        pods: { 'app.kubernetes.io/name': NAME },
        to: [
          { peers: [{ namespace: NAMESPACES.monitoring, pods: { 'app.kubernetes.io/name': 'prometheus' } }], ports: [{ port: 9090 }] },
          { peers: [{ namespace: NAMESPACES.monitoring, pods: { 'app.kubernetes.io/name': 'alertmanager' } }], ports: [{ port: 9093 }] },
          { peers: [{ namespace: NAMESPACES.logging, pods: { ...LOG_STORE_PODS } }], ports: [{ port: LOG_STORE_PORT }] },
        ],
      },
    ],
  }),
  // The SQLite volume holds users and preferences.
  holdsData: true,
  build(chart, { config }, labels) {
    new ApiObject(chart, 'dashboards', dashboardsConfigMap(labels) as never);
    new ExternalSecret(chart, {
      name: GRAFANA_ADMIN_SECRET,
      namespace: NAMESPACES.grafana,
      labels,
      values: [{ secretKey: 'password', remoteKey: secretsManagerName(config, GENERATED_SECRETS.grafanaAdminPassword) }],
      template: { 'admin-user': 'admin', 'admin-password': '{{ .password }}' },
    });
    tailnetIngress(chart, { name: 'grafana-tailnet', namespace: NAMESPACES.grafana, labels, service: { name: NAME, port: SERVICE_PORT }, machineName: grafanaHostname(config) });
  },
});
