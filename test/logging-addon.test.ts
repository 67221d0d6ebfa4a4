/**
 * The log store and collector as rendered into rendered/<env>/logging:
 * the collector's host access is exactly the pod log folder and its own data
 * directory, the namespace is privileged (baseline admits no hostPath), retention and storage come
 * from the config, and only the collector and Grafana reach the store.
 */
import { describe, expect, it } from 'vitest';
import { loadEnvironment } from '../generator/config/load-environment.js';
import { NAMESPACES, STORAGE_CLASS } from '../generator/platform-names.js';
import { LOG_STORE_PORT } from '../generator/addons/logging.js';
import { loadRenderedTree, podSpecOf } from './support/rendered-tree.js';
import { REPO_ROOT } from './support/temp-repo.js';

type Json = Record<string, any>;
const tree = loadRenderedTree().filter((item) => item.file.includes('/logging/'));
const of = (env: string, kind: string, name?: string) => tree.filter((item) => item.env === env && item.manifest.kind === kind && (name === undefined || item.manifest.metadata.name === name)).map((item) => item.manifest as Json);

describe.each(['dev', 'prod', 'staging'])('logging in %s', (env) => {
  const { config } = loadEnvironment(REPO_ROOT, env);

  it('is a privileged namespace (baseline forbids every hostPath) whose only hostPath pod is the collector, limited to the pod logs and its data directory', () => {
    const [namespace] = of(env, 'Namespace', NAMESPACES.logging);
    expect(namespace?.metadata.labels['pod-security.kubernetes.io/enforce']).toBe('privileged');
    const pods = tree.filter((item) => item.env === env && podSpecOf(item.manifest) !== undefined);
    const withHostPath = pods.filter(({ manifest }) => (podSpecOf(manifest)!['volumes'] ?? []).some((volume: Json) => volume.hostPath));
    expect(withHostPath.map(({ manifest }) => `${manifest.kind} ${manifest.metadata.name}`)).toEqual(['DaemonSet victoria-logs-vector']);
    const spec = podSpecOf(of(env, 'DaemonSet', 'victoria-logs-vector')[0] as never) as Json;
    for (const field of ['hostNetwork', 'hostPID', 'hostIPC']) expect(spec[field] ?? false, field).toBe(false);
    expect((spec['volumes'] as Json[]).filter((volume) => volume.hostPath).map((volume) => volume.hostPath.path).sort()).toEqual(['/var/lib/vector', '/var/log/pods']);
    const [container] = spec['containers'] as Json[];
    expect(container?.securityContext).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
    expect(container?.securityContext.privileged ?? false).toBe(false);
    expect(container?.securityContext.capabilities.add ?? []).toEqual([]);
    const logMount = (container?.volumeMounts as Json[]).find((mount) => mount.mountPath === '/var/log/pods');
    expect(logMount?.readOnly).toBe(true);
  });

  it('keeps logs for the configured retention on a retained Longhorn volume of the configured size', () => {
    const [store] = of(env, 'StatefulSet', 'victoria-logs-victoria-logs-single-server');
    expect(store?.spec.template.spec.automountServiceAccountToken).toBe(false);
    expect(store?.spec.template.spec.containers[0].args).toContain(`--retentionPeriod=${config.logging.retention}`);
    const [claim] = store?.spec.volumeClaimTemplates as Json[];
    expect(claim?.spec.storageClassName).toBe(STORAGE_CLASS);
    expect(claim?.spec.resources.requests.storage).toBe(config.logging.storage);
    expect(claim?.metadata.annotations['argocd.argoproj.io/sync-options']).toBe('Prune=false,Delete=false');
  });

  it('ships to the store, which only Grafana and the namespace itself may reach', () => {
    const [vectorConfig] = of(env, 'ConfigMap', 'vector-vl-config');
    expect(JSON.stringify(vectorConfig?.data)).toContain(`.logging.svc.cluster.local.:${LOG_STORE_PORT}/insert/elasticsearch`);
    const ingress = of(env, 'NetworkPolicy').filter((policy) => policy.spec.ingress?.length).map((policy) => [policy.metadata.name, policy.spec.ingress]);
    expect(ingress).toEqual([
      ['allow-queries-from-grafana', [{ from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'grafana' } }, podSelector: { matchLabels: { 'app.kubernetes.io/name': 'grafana' } } }], ports: [{ port: LOG_STORE_PORT, protocol: 'TCP' }] }]],
      ['allow-same-namespace', [{ from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'logging' } } }], ports: [] }]],
    ]);
    // Out of the namespace: only the API server (the node subnets on 6443), never the internet.
    const sameNamespace = of(env, 'NetworkPolicy', 'allow-same-namespace')[0]?.spec.egress as Json[];
    expect(sameNamespace).toEqual([{ to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'logging' } } }], ports: [] }]);
    const egress = of(env, 'NetworkPolicy').filter((policy) => policy.metadata.name.startsWith('allow-egress-')).map((policy) => policy.metadata.name);
    expect(egress).toEqual(['allow-egress-api-server']);
    const apiServer = of(env, 'NetworkPolicy', 'allow-egress-api-server')[0]?.spec.egress as Json[];
    expect(apiServer.flatMap((rule) => rule.ports.map((port: Json) => port.port))).toEqual([6443]);
    expect(apiServer.flatMap((rule) => rule.to).every((peer: Json) => peer.ipBlock && peer.ipBlock.cidr !== '0.0.0.0/0')).toBe(true);
  });
});
