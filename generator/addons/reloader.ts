/**
 * Reloader (stakater/Reloader): restarts the workloads that read the
 * RDS-managed Aurora master password when RDS rotates it, so LiteLLM and Open
 * WebUI, which build their database URL once at start, follow the rotation
 * with no person involved (docs/operations.md, "Aurora master password").
 *
 * Built here rather than from the vendored chart: the chart's scoped mode
 * (reloader.namespaces) would also render one Role per namespace, but the
 * namespaces and the reload annotations are derived from the other folders'
 * rendered objects (which ExternalSecret is sourced from the RDS-managed
 * secret, which workload reads its Secret), known only after every component
 * is built (`finalize`); the Deployment goes through the same podSpec()
 * helper as every generator workload, so it is restricted by construction.
 *
 * Least privilege: it watches only those namespaces (`--namespaces`), reads
 * only Secrets there (ConfigMaps are ignored), restarts only workloads that
 * name the Secret in `secret.reloader.stakater.com/reload` (never `auto`: the
 * LiteLLM master key and the other generated secrets keep their ordered
 * restarts in `npm run ops -- rotate`), and restarts by the `annotations`
 * strategy (a pod-template annotation, like `kubectl rollout restart`).
 */
import { ApiObject, type Chart } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import { APPLICATION_WAVE, PROJECTS } from '../argocd/application.js';
import { imageRef, type RenderContext } from '../components/component.js';
import type { Labels } from '../k8s/labels.js';
import { restrictedNamespace } from '../k8s/namespace.js';
import { SERVICE_IDS } from '../k8s/security.js';
import { SYNC_WAVE, syncWave } from '../k8s/sync-waves.js';
import { controllerDeployment, podSpec } from '../k8s/workload.js';
import { NAMESPACES } from '../platform-names.js';
import { addOnLabels, type AddOn } from './addon.js';
import { addOnNetworkPolicies, toApiServer } from './network.js';

const NAME = 'reloader';
export const RELOADER_SERVICE_ACCOUNT = 'reloader';
/** The annotation naming the Secrets whose change restarts a workload (comma-separated). */
export const RELOAD_SECRET_ANNOTATION = 'secret.reloader.stakater.com/reload';
/** The kinds Reloader restarts; a Job that read the old password has finished (or retries with the new one). */
export const RELOADED_KINDS = ['Deployment', 'StatefulSet', 'DaemonSet'] as const;
const READ = ['get', 'list', 'watch'];

/** The arguments of the Reloader container for the namespaces it may act in. */
export function reloaderArgs(namespaces: readonly string[]): string[] {
  return [
    `--namespaces=${namespaces.join(',')}`,
    '--resources-to-ignore=configmaps',
    '--reload-strategy=annotations',
    '--reload-on-create=false',
    '--reload-on-delete=false',
    '--auto-reload-all=false',
    '--ignored-workload-types=jobs,cronjobs',
    '--log-format=json',
  ];
}

/**
 * Whether a Secrets Manager name or ARN is a secret RDS manages (and rotates)
 * itself: RDS names them `rds!cluster-<id>` / `rds!db-<id>`, and no other
 * service may create a name starting with `rds!`.
 */
export function isRdsManagedSecret(key: string): boolean {
  return /(^|:secret:)rds!/.test(key);
}

export interface JsonObject {
  kind?: string;
  metadata?: { name?: string; namespace?: string };
  spec?: any;
}

/** The Secret names (per namespace) that ExternalSecrets fill from a Secrets Manager secret `source` accepts. */
export function secretsSourcedFrom(objects: readonly JsonObject[], source: (key: string) => boolean): Map<string, Set<string>> {
  const found = new Map<string, Set<string>>();
  for (const object of objects) {
    if (object.kind !== 'ExternalSecret') continue;
    const keys = [...(object.spec?.data ?? []).map((item: any) => item?.remoteRef?.key), ...(object.spec?.dataFrom ?? []).map((item: any) => item?.extract?.key)];
    if (!keys.some((key) => typeof key === 'string' && source(key))) continue;
    const namespace = object.metadata?.namespace ?? '';
    const secret = object.spec?.target?.name ?? object.metadata?.name;
    found.set(namespace, new Set([...(found.get(namespace) ?? []), String(secret)]));
  }
  return found;
}

/** The Secret names a pod template reads (envFrom, env valueFrom, secret and projected volumes). */
export function secretsReadBy(podTemplateSpec: any): Set<string> {
  const names = new Set<string>();
  for (const container of [...(podTemplateSpec?.initContainers ?? []), ...(podTemplateSpec?.containers ?? [])]) {
    for (const source of container.envFrom ?? []) if (source.secretRef?.name) names.add(source.secretRef.name);
    for (const variable of container.env ?? []) if (variable.valueFrom?.secretKeyRef?.name) names.add(variable.valueFrom.secretKeyRef.name);
  }
  for (const volume of podTemplateSpec?.volumes ?? []) {
    if (volume.secret?.secretName) names.add(volume.secret.secretName);
    for (const source of volume.projected?.sources ?? []) if (source.secret?.name) names.add(source.secret.name);
  }
  return names;
}

/** The rotating Secrets a workload reads, sorted; empty when it reads none. */
export function rotatingSecretsOf(workload: JsonObject, rotating: ReadonlyMap<string, ReadonlySet<string>>): string[] {
  if (!(RELOADED_KINDS as readonly string[]).includes(workload.kind ?? '')) return [];
  const inNamespace = rotating.get(workload.metadata?.namespace ?? '') ?? new Set<string>();
  return [...secretsReadBy(workload.spec?.template?.spec)].filter((name) => inNamespace.has(name)).sort();
}

function rbac(chart: Chart, labels: Labels, targets: readonly string[]): void {
  const subjects = [{ kind: 'ServiceAccount', name: RELOADER_SERVICE_ACCOUNT, namespace: NAMESPACES.reloader }];
  const roles: [string, k8s.PolicyRule[]][] = [
    // Its own namespace: the reloader-meta-info ConfigMap it records its settings in.
    [NAMESPACES.reloader, [{ apiGroups: [''], resources: ['configmaps'], verbs: [...READ, 'create', 'update'] }]],
    ...targets.map((namespace): [string, k8s.PolicyRule[]] => [
      namespace,
      [
        { apiGroups: [''], resources: ['secrets'], verbs: READ },
        { apiGroups: ['apps'], resources: ['deployments', 'statefulsets', 'daemonsets'], verbs: ['get', 'list', 'update', 'patch'] },
        { apiGroups: [''], resources: ['events'], verbs: ['create', 'patch'] },
      ],
    ]),
  ];
  for (const [namespace, rules] of roles) {
    new k8s.KubeRole(chart, `role-${namespace}`, { metadata: { name: NAME, namespace, labels }, rules });
    new k8s.KubeRoleBinding(chart, `role-binding-${namespace}`, {
      metadata: { name: NAME, namespace, labels },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: NAME },
      subjects,
    });
  }
}

function deployment(chart: Chart, context: RenderContext, labels: Labels, targets: readonly string[]): void {
  const selector = { 'app.kubernetes.io/name': NAME };
  const spec = podSpec({
    serviceAccountName: RELOADER_SERVICE_ACCOUNT,
    runAs: { uid: SERVICE_IDS.reloader, gid: SERVICE_IDS.reloader },
    containers: [
      {
        name: NAME,
        image: imageRef(context.config.reloader.image),
        args: reloaderArgs(targets),
        env: [{ name: 'RELOADER_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } }],
        ports: [{ name: 'http', port: 9090 }],
        resources: { requests: { cpu: '10m', memory: '32Mi' }, limits: { memory: '128Mi' } },
        liveness: { httpGet: { path: '/live', port: k8s.IntOrString.fromString('http') }, periodSeconds: 30, timeoutSeconds: 5 },
        readiness: { httpGet: { path: '/metrics', port: k8s.IntOrString.fromString('http') }, periodSeconds: 30, timeoutSeconds: 5 },
      },
    ],
  });
  // One replica without leader election: a restart missed while it is rescheduled is caught by its resync at start (it compares each Secret with the hash on the workload).
  controllerDeployment(chart, 'deployment', {
    name: NAME,
    namespace: NAMESPACES.reloader,
    labels,
    selector,
    pod: spec,
    apiAccess: 'Reloader watches the Secrets and patches the workloads of its target namespaces through the API',
  });
}

export const reloader: AddOn = {
  enabled: () => true,
  info: ({ config }: RenderContext) => ({
    folder: NAME,
    description: `Reloader ${config.reloader.image.tag.split('@')[0]}: restarts the workloads that read the RDS-managed Aurora password when RDS rotates it (RBAC only in their namespaces)`,
    versions: { reloader: config.reloader.image.tag.split('@')[0]! },
  }),
  build(chart: Chart, context: RenderContext) {
    const labels = addOnLabels(NAME);
    restrictedNamespace(chart, { name: NAMESPACES.reloader, labels, kubernetes: context.kubernetes, holdsData: false });
    addOnNetworkPolicies(chart, {
      namespace: NAMESPACES.reloader,
      labels,
      egress: [{ name: 'api-server', reason: 'Reloader watches Secrets and patches Deployments in its target namespaces through the API server', to: [toApiServer(context.config)] }],
    });
    new k8s.KubeServiceAccount(chart, 'service-account', { metadata: { name: RELOADER_SERVICE_ACCOUNT, namespace: NAMESPACES.reloader, labels, annotations: syncWave(SYNC_WAVE.secrets) } });
  },
  /**
   * The reload annotation on every workload that reads a Secret filled from
   * the RDS-managed master secret, and RBAC in exactly their namespaces.
   */
  finalize(chart: Chart, context: RenderContext, charts: readonly Chart[]) {
    const objects = charts.filter((other) => other !== chart).flatMap((other) => other.node.findAll().filter((node): node is ApiObject => ApiObject.isApiObject(node)));
    const rotating = secretsSourcedFrom(objects.map((object) => object.toJson() as JsonObject), (key) => key === context.outputs.aurora.masterUserSecretArn);
    const targets = new Set<string>();
    for (const object of objects) {
      const secrets = rotatingSecretsOf(object.toJson() as JsonObject, rotating);
      if (secrets.length === 0) continue;
      object.metadata.addAnnotation(RELOAD_SECRET_ANNOTATION, secrets.join(','));
      targets.add(object.metadata.namespace!);
    }
    const sorted = [...targets].sort();
    const labels = addOnLabels(NAME);
    // Nothing reads the password: no Deployment (an empty --namespaces would mean every namespace).
    if (sorted.length === 0) return;
    rbac(chart, labels, sorted);
    deployment(chart, context, labels, sorted);
  },
  application: () => ({ project: PROJECTS.platform, wave: APPLICATION_WAVE.afterWorkloads, namespace: NAMESPACES.reloader }),
};
