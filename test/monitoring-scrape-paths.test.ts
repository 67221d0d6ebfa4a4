/**
 * On the committed rendered trees: every component has a path to Prometheus.
 * For each scrape job of the rendered prometheus.yml, a workload matches its
 * pod selector and listens on its port, the target's namespace lets
 * Prometheus in on that port, and namespace monitoring lets Prometheus out to
 * it; node jobs reach the node subnets on their port. Open WebUI exports over
 * OTLP to Prometheus's receiver, with both ends open. A tree with one end
 * removed is rejected.
 */
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { checkSecretValue } from '../bootstrap/lib/secret-values.js';
import { retentionSize } from '../generator/addons/monitoring.js';
import { capacityBudget } from '../generator/cluster/capacity.js';
import { nodeCidrs } from '../generator/observability/scrape-targets.js';
import type { Manifest } from '../generator/render-environment.js';
import { ENVIRONMENTS, environment } from './support/environments.js';
import { loadRenderedTree, podSpecOf, type RenderedManifest } from './support/rendered-tree.js';

type Json = Record<string, any>;
type Labels = Record<string, string>;

/** Pods that listen on a port they do not declare, with where that was read. */
const UNDECLARED_PORTS: Record<string, string> = {
  'tailscale-operator:8080': 'tailscale v1.102.2 cmd/k8s-operator/operator.go: controller-runtime v0.19.4 default metrics address :8080',
};

/** Jobs each environment must have: every component of the hub and the platform. */
const REQUIRED_JOBS = ['litellm', 'argocd-application-controller', 'external-secrets', 'longhorn-manager', 'tailscale-operator', 'kubelet', 'cadvisor', 'node-exporter', 'etcd', 'kube-state-metrics'];

const subset = (selector: Labels | undefined, labels: Labels) => Object.entries(selector ?? {}).every(([key, value]) => labels[key] === value);

function peerMatches(peer: Json, namespace: string, pods: Labels): boolean {
  if (!peer['namespaceSelector']) return false;
  if (peer['namespaceSelector'].matchLabels?.['kubernetes.io/metadata.name'] !== namespace) return false;
  return peer['podSelector'] ? subset(peer['podSelector'].matchLabels, pods) : true;
}

const portMatches = (ports: Json[] | undefined, port: number) => !ports || ports.length === 0 || ports.some((entry) => entry.port === port);

function policies(tree: Manifest[], namespace: string, pods: Labels, type: 'Ingress' | 'Egress'): Json[] {
  return tree.filter((m) => m.kind === 'NetworkPolicy' && m.metadata.namespace === namespace).map((m) => (m as Json)['spec']).filter((spec) => spec.policyTypes?.includes(type) && subset(spec.podSelector?.matchLabels, pods));
}

function ingressAllows(tree: Manifest[], to: { namespace: string; pods: Labels }, from: { namespace: string; pods: Labels }, port: number): boolean {
  return policies(tree, to.namespace, to.pods, 'Ingress').some((spec) => (spec.ingress ?? []).some((rule: Json) => (rule['from'] ?? []).some((peer: Json) => peerMatches(peer, from.namespace, from.pods)) && portMatches(rule['ports'], port)));
}

function egressAllows(tree: Manifest[], from: { namespace: string; pods: Labels }, to: { namespace: string; pods: Labels } | { cidr: string }, port: number): boolean {
  return policies(tree, from.namespace, from.pods, 'Egress').some((spec) =>
    (spec.egress ?? []).some((rule: Json) => portMatches(rule['ports'], port) && (rule['to'] ?? []).some((peer: Json) => ('cidr' in to ? peer['ipBlock']?.cidr === to.cidr : peerMatches(peer, to.namespace, to.pods)))),
  );
}

interface Workload {
  namespace: string;
  name: string;
  labels: Labels;
  ports: number[];
}

function workloads(tree: Manifest[]): Workload[] {
  return tree.flatMap((manifest) => {
    const spec = podSpecOf(manifest);
    if (!spec || manifest.kind === 'Job' || manifest.kind === 'CronJob') return [];
    const labels = (manifest as Json)['spec'].template.metadata.labels as Labels;
    const ports = spec.containers.flatMap((container) => (container['ports'] ?? []).map((port: Json) => port['containerPort'] as number));
    return [{ namespace: manifest.metadata.namespace!, name: manifest.metadata.name, labels, ports }];
  });
}

const keepLabels = (job: Json): Labels =>
  Object.fromEntries(
    (job['relabel_configs'] ?? [])
      .filter((rule: Json) => rule['action'] === 'keep' && String(rule['source_labels']?.[0]).startsWith('__meta_kubernetes_pod_label_'))
      .map((rule: Json) => [String(rule['source_labels'][0]).slice('__meta_kubernetes_pod_label_'.length), rule['regex']]),
  );

/** The port a job's relabelling sets in __address__. */
const jobPort = (job: Json): number | undefined => {
  const rule = (job['relabel_configs'] ?? []).find((entry: Json) => entry['target_label'] === '__address__');
  return rule ? Number(/:(\d+)$/.exec(rule['replacement'])?.[1]) : undefined;
};

/** Label keys in Prometheus's __meta names have _ for every other character; map them back through the workloads' real keys. */
function realLabels(escaped: Labels, candidates: Workload[]): Labels {
  const keys = new Set(candidates.flatMap((workload) => Object.keys(workload.labels)));
  return Object.fromEntries(Object.entries(escaped).map(([key, value]) => [[...keys].find((real) => real.replace(/[^A-Za-z0-9_]/g, '_') === key) ?? key, value]));
}

/** Every problem with the scrape and export paths of one environment's rendered tree (none when all are complete). */
export function scrapePathProblems(env: string, entries: RenderedManifest[]): string[] {
  const tree = entries.map((entry) => entry.manifest);
  const config = environment(env).config;
  const problems: string[] = [];
  const configMap = tree.find((m) => m.kind === 'ConfigMap' && m.metadata.namespace === 'monitoring' && m.metadata.name === 'prometheus') as Json | undefined;
  if (!configMap) return [`${env}: no ConfigMap monitoring/prometheus`];
  const jobs = (parse(configMap['data']['prometheus.yml']) as Json)['scrape_configs'] as Json[];
  const prometheus = workloads(tree).find((workload) => workload.namespace === 'monitoring' && workload.name === 'prometheus');
  if (!prometheus) return [`${env}: no Prometheus workload`];
  const self = { namespace: 'monitoring', pods: prometheus.labels };
  const all = workloads(tree);

  for (const name of REQUIRED_JOBS.concat(config.redis.enabled ? ['valkey'] : [])) {
    if (!jobs.some((job) => job['job_name'] === name)) problems.push(`${env}: no scrape job ${name}`);
  }
  for (const job of jobs) {
    const sd = job['kubernetes_sd_configs']?.[0];
    if (!sd) continue;
    const name = job['job_name'] as string;
    if (sd.role === 'pod') {
      const namespace = sd.namespaces.names[0] as string;
      const port = jobPort(job)!;
      const inNamespace = all.filter((workload) => workload.namespace === namespace);
      const pods = realLabels(keepLabels(job), inNamespace);
      const targets = inNamespace.filter((workload) => subset(pods, workload.labels));
      if (targets.length === 0) problems.push(`${env}: job ${name}: no workload in ${namespace} has labels ${JSON.stringify(pods)}`);
      for (const target of targets) {
        if (!target.ports.includes(port) && !UNDECLARED_PORTS[`${name}:${port}`]) problems.push(`${env}: job ${name}: ${namespace}/${target.name} does not listen on ${port}`);
        if (!ingressAllows(tree, { namespace, pods: target.labels }, self, port)) problems.push(`${env}: job ${name}: no NetworkPolicy in ${namespace} lets Prometheus in to ${target.name} on ${port}`);
        if (!egressAllows(tree, self, { namespace, pods: target.labels }, port)) problems.push(`${env}: job ${name}: no NetworkPolicy in monitoring lets Prometheus out to ${namespace}/${target.name} on ${port}`);
      }
    } else if (sd.role === 'node') {
      const port = jobPort(job)!;
      for (const cidr of nodeCidrs(config)) if (!egressAllows(tree, self, { cidr }, port)) problems.push(`${env}: job ${name}: no NetworkPolicy in monitoring lets Prometheus out to the nodes (${cidr}) on ${port}`);
    }
  }

  // LiteLLM: the callback is on and the scrape carries the key from a mounted Secret an ExternalSecret makes.
  const litellmConfig = tree.find((m) => m.kind === 'ConfigMap' && m.metadata.name === 'litellm-config') as Json | undefined;
  if (!(parse(litellmConfig?.['data']['config.yaml'] ?? '{}') as Json)['litellm_settings']?.callbacks?.includes('prometheus')) problems.push(`${env}: LiteLLM's config has no prometheus callback`);
  const tokenFile = jobs.find((job) => job['job_name'] === 'litellm')?.['authorization']?.credentials_file as string | undefined;
  const statefulSet = tree.find((m) => m.kind === 'StatefulSet' && m.metadata.name === 'prometheus') as Json;
  const podSpec = statefulSet['spec'].template.spec;
  const mount = podSpec.containers.flatMap((c: Json) => c['volumeMounts'] ?? []).find((m: Json) => tokenFile?.startsWith(`${m['mountPath']}/`));
  const secretName = podSpec.volumes.find((v: Json) => v['name'] === mount?.name)?.secret?.secretName;
  if (!tokenFile || !secretName || !tree.some((m) => m.kind === 'ExternalSecret' && m.metadata.namespace === 'monitoring' && m.metadata.name === secretName)) problems.push(`${env}: the litellm job's key is not a mounted Secret made by an ExternalSecret in monitoring`);

  // Open WebUI: OTLP metrics to Prometheus's receiver, both ends open.
  const settings = (tree.find((m) => m.kind === 'ConfigMap' && m.metadata.name === 'open-webui-settings') as Json | undefined)?.['data'] ?? {};
  const webui = all.find((workload) => workload.namespace === 'open-webui' && workload.name === 'open-webui');
  if (settings['ENABLE_OTEL'] !== 'true' || settings['ENABLE_OTEL_METRICS'] !== 'true' || !String(settings['OTEL_METRICS_EXPORTER_OTLP_ENDPOINT']).startsWith('http://prometheus.monitoring.svc.cluster.local:9090/api/v1/otlp/')) problems.push(`${env}: Open WebUI does not export OTLP metrics to prometheus.monitoring:9090`);
  if (!podSpec.containers.some((c: Json) => (c['args'] ?? []).includes('--web.enable-otlp-receiver'))) problems.push(`${env}: Prometheus runs without --web.enable-otlp-receiver`);
  if (webui && !egressAllows(tree, { namespace: 'open-webui', pods: webui.labels }, self, 9090)) problems.push(`${env}: no NetworkPolicy lets Open WebUI out to Prometheus on 9090`);
  if (webui && !ingressAllows(tree, self, { namespace: 'open-webui', pods: webui.labels }, 9090)) problems.push(`${env}: no NetworkPolicy lets Open WebUI in to Prometheus on 9090`);
  // Grafana (namespace grafana) reads Prometheus and Alertmanager.
  if (!ingressAllows(tree, self, { namespace: 'grafana', pods: {} }, 9090)) problems.push(`${env}: Grafana may not reach Prometheus on 9090`);
  return problems;
}

const TREE = loadRenderedTree();
const treeOf = (env: string) => TREE.filter((entry) => entry.env === env);

describe('scrape and export paths in the rendered trees', () => {
  it.each(ENVIRONMENTS)('%s: every component has a target, a port and both NetworkPolicy ends', (env) => {
    expect(scrapePathProblems(env, treeOf(env))).toEqual([]);
  });

  it('Prometheus keeps the retention from the config and stops at 80 % of its volume', () => {
    for (const env of ENVIRONMENTS) {
      const { monitoring } = environment(env).config;
      const statefulSet = treeOf(env).find((entry) => entry.manifest.kind === 'StatefulSet' && entry.manifest.metadata.name === 'prometheus')!.manifest as Json;
      const args = statefulSet['spec'].template.spec.containers.flatMap((c: Json) => c['args'] ?? []);
      expect(args).toContain(`--storage.tsdb.retention.time=${monitoring.retention}`);
      expect(args).toContain(`--storage.tsdb.retention.size=${retentionSize(monitoring.storageSize)}`);
      expect(statefulSet['spec'].volumeClaimTemplates[0].spec.resources.requests.storage).toBe(monitoring.storageSize);
      expect(statefulSet['spec'].volumeClaimTemplates[0].spec.storageClassName).toBe('longhorn-retain');
    }
    expect(retentionSize('8Gi')).toBe('6553MB');
  });

  it('the contract names: prometheus:9090, alertmanager:9093 in monitoring', () => {
    for (const env of ENVIRONMENTS) {
      const services = treeOf(env).map((entry) => entry.manifest as Json).filter((m) => m['kind'] === 'Service' && m['metadata'].namespace === 'monitoring');
      expect(services.find((s) => s['metadata'].name === 'prometheus')?.['spec'].ports[0].port, env).toBe(9090);
      expect(services.find((s) => s['metadata'].name === 'alertmanager')?.['spec'].ports[0].port, env).toBe(9093);
    }
  });

  it('rejects a tree where a target namespace does not let Prometheus in', () => {
    const broken = structuredClone(treeOf('dev')).filter((entry) => !(entry.manifest.kind === 'NetworkPolicy' && entry.manifest.metadata.name === 'allow-scrape-external-secrets-from-prometheus'));
    expect(scrapePathProblems('dev', broken)).toEqual(['dev: job external-secrets: no NetworkPolicy in external-secrets lets Prometheus in to external-secrets on 8080']);
  });

  it('rejects a tree where monitoring does not let Prometheus out to a target', () => {
    const broken = structuredClone(treeOf('dev'));
    const egress = broken.find((entry) => entry.manifest.kind === 'NetworkPolicy' && entry.manifest.metadata.namespace === 'monitoring' && entry.manifest.metadata.name === 'allow-egress-scrape')!.manifest as Json;
    egress['spec'].egress = egress['spec'].egress.filter((rule: Json) => !(rule['to'] ?? []).some((peer: Json) => peer['namespaceSelector']?.matchLabels?.['kubernetes.io/metadata.name'] === 'longhorn-system'));
    expect(scrapePathProblems('dev', broken)).toEqual(['dev: job longhorn-manager: no NetworkPolicy in monitoring lets Prometheus out to longhorn-system/longhorn-manager on 9500']);
  });

  it.each(ENVIRONMENTS)('%s: the monitoring pods count in the capacity budget, and it still fits', (env) => {
    const { budget, issues } = capacityBudget(environment(env).config, treeOf(env).map((entry) => entry.manifest));
    expect(issues).toEqual([]);
    const owners = budget!.groups.map((group) => group.owner);
    for (const owner of ['StatefulSet monitoring/prometheus', 'StatefulSet monitoring/alertmanager', 'Deployment monitoring/prometheus-kube-state-metrics', 'DaemonSet monitoring-node/prometheus-prometheus-node-exporter']) expect(owners, env).toContain(owner);
    const prometheus = budget!.groups.find((group) => group.owner === 'StatefulSet monitoring/prometheus')!;
    expect(prometheus.each.bytes).toBeGreaterThanOrEqual(512 * 2 ** 20);
  });

  it('the Alertmanager webhook secret takes only an https URL, before anything is stored', () => {
    expect(() => checkSecretValue('monitoring/alertmanager-webhook', 'https://hooks.slack.com/services/T000/B000/XXXX')).not.toThrow();
    expect(() => checkSecretValue('monitoring/alertmanager-webhook', 'http://hooks.example/x')).toThrow(/must be an https:\/\/ webhook URL; nothing was stored/);
    expect(() => checkSecretValue('monitoring/alertmanager-webhook', 'hooks.example/x')).toThrow(/must be an https:\/\/ webhook URL/);
  });
});
