/**
 * Grafana as rendered into rendered/<env>/grafana: what it may reach, how it
 * is reached, where its password and data live, and that the dashboards it
 * provisions are the ones generator/observability builds.
 */
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadEnvironment } from '../generator/config/load-environment.js';
import { dashboardJson } from '../generator/observability/dashboards/builder.js';
import { DASHBOARDS } from '../generator/observability/dashboards/index.js';
import { GENERATED_SECRETS, NAMESPACES, STORAGE_CLASS, secretsManagerName } from '../generator/platform-names.js';
import { grafanaHostname } from '../generator/addons/grafana.js';
import { loadRenderedTree, podSpecOf } from './support/rendered-tree.js';
import { REPO_ROOT } from './support/temp-repo.js';

type Json = Record<string, any>;
const tree = loadRenderedTree().filter((item) => item.manifest.metadata.namespace === NAMESPACES.grafana || (item.manifest.kind === 'Namespace' && item.manifest.metadata.name === NAMESPACES.grafana));
const envs = ['dev', 'prod', 'staging'];
const of = (env: string, kind: string, name?: string) => tree.filter((item) => item.env === env && item.manifest.kind === kind && (name === undefined || item.manifest.metadata.name === name)).map((item) => item.manifest as Json);

describe.each(envs)('Grafana in %s', (env) => {
  const { config } = loadEnvironment(REPO_ROOT, env);

  it('runs one restricted pod without a ServiceAccount token or init containers', () => {
    expect(of(env, 'Namespace', NAMESPACES.grafana)[0]?.metadata.labels['pod-security.kubernetes.io/enforce']).toBe('restricted');
    const [deployment] = of(env, 'Deployment', 'grafana');
    const spec = podSpecOf(deployment as never) as Json;
    expect(spec['automountServiceAccountToken']).toBe(false);
    expect(spec['initContainers'] ?? []).toEqual([]);
    expect(spec['securityContext']).toMatchObject({ runAsNonRoot: true, runAsUser: 472, seccompProfile: { type: 'RuntimeDefault' } });
    for (const container of spec['containers']) {
      expect(container.securityContext, container.name).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
      expect(container.resources.requests, container.name).toBeDefined();
    }
  });

  it('keeps its SQLite database on a retained Longhorn volume of the configured size', () => {
    const [claim] = of(env, 'PersistentVolumeClaim', 'grafana');
    expect(claim?.spec.storageClassName).toBe(STORAGE_CLASS);
    expect(claim?.spec.resources.requests.storage).toBe(config.grafana.storage);
    expect(claim?.metadata.annotations['argocd.argoproj.io/sync-options']).toBe('Prune=false,Delete=false');
  });

  it('takes the admin password from the generated Secrets Manager secret', () => {
    const [secret] = of(env, 'ExternalSecret', 'grafana-admin');
    expect(secret?.spec.data.map((item: Json) => item.remoteRef.key)).toEqual([secretsManagerName(config, GENERATED_SECRETS.grafanaAdminPassword)]);
    expect(Object.keys(secret?.spec.target.template.data).sort()).toEqual(['admin-password', 'admin-user']);
    const env_ = (podSpecOf(of(env, 'Deployment', 'grafana')[0] as never) as Json)['containers'][0].env as Json[];
    expect(env_.find((item) => item.name === 'GF_SECURITY_ADMIN_PASSWORD')?.valueFrom.secretKeyRef).toEqual({ name: 'grafana-admin', key: 'admin-password' });
  });

  it('is reached only through a Tailscale Ingress, and only the Tailscale proxies may connect', () => {
    const ingresses = of(env, 'Ingress');
    expect(ingresses.map((ingress) => [ingress.spec.ingressClassName, ingress.spec.tls[0].hosts])).toEqual([['tailscale', [grafanaHostname(config)]]]);
    const ingressPolicies = of(env, 'NetworkPolicy').filter((policy) => policy.spec.ingress?.length);
    expect(ingressPolicies.map((policy) => policy.metadata.name).sort()).toEqual(['allow-same-namespace', 'allow-ui-from-tailscale']);
    const ui = ingressPolicies.find((policy) => policy.metadata.name === 'allow-ui-from-tailscale')!;
    expect(ui.spec.ingress).toEqual([{ from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': NAMESPACES.tailscale } } }], ports: [{ port: 3000, protocol: 'TCP' }] }]);
  });

  it('may connect to DNS, Prometheus :9090, Alertmanager :9093 and the log store :9428 only: no address block, no other port', () => {
    const egress = of(env, 'NetworkPolicy').flatMap((policy) => (policy.spec.egress ?? []) as Json[]);
    const peers = egress.flatMap((rule) => rule.to.map((to: Json) => `${to.namespaceSelector?.matchLabels['kubernetes.io/metadata.name'] ?? `ipBlock ${JSON.stringify(to.ipBlock)}`}/${JSON.stringify(to.podSelector?.matchLabels ?? {})}:${rule.ports.map((port: Json) => port.port).join(',')}`));
    expect(peers.sort()).toEqual([
      'grafana/{}:',
      'kube-system/{"k8s-app":"kube-dns"}:53,53',
      'logging/{"app.kubernetes.io/instance":"victoria-logs","app.kubernetes.io/name":"victoria-logs-single"}:9428',
      'monitoring/{"app.kubernetes.io/name":"alertmanager"}:9093',
      'monitoring/{"app.kubernetes.io/name":"prometheus"}:9090',
    ]);
  });

  it('provisions Prometheus at the contract address and exactly the dashboards the generator builds', () => {
    const [config_] = of(env, 'ConfigMap', 'grafana');
    const datasources = parse(config_?.data['datasources.yaml']).datasources as Json[];
    expect(datasources.map((source) => [source.uid, source.type, source.url])).toEqual([
      ['prometheus', 'prometheus', 'http://prometheus.monitoring.svc:9090'],
      ['alertmanager', 'alertmanager', 'http://alertmanager.monitoring.svc:9093'],
    ]);
    expect(config_?.data['grafana.ini']).toMatch(/check_for_plugin_updates = false/);
    expect(config_?.data['grafana.ini']).toMatch(/preinstall_disabled = true/);
    const [dashboards] = of(env, 'ConfigMap', 'dashboards');
    expect(Object.keys(dashboards?.data).sort()).toEqual(DASHBOARDS.map((dashboard) => `${dashboard.uid}.json`).sort());
    for (const dashboard of DASHBOARDS) expect(JSON.parse(dashboards?.data[`${dashboard.uid}.json`])).toEqual(dashboardJson(dashboard));
  });
});
