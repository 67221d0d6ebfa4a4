/**
 * The system-upgrade-controller (rancher/system-upgrade-controller), which
 * upgrades K3s node by node from the Plans in `k3s-upgrade-plans`. It
 * publishes no chart, so its Deployment and RBAC are built here; the Plan CRD
 * is vendored unchanged under vendor/system-upgrade-controller/ so the Plans
 * are validated against the exact schema the controller serves.
 *
 * The controller itself runs restricted (non-root, no capabilities, read-only
 * root). The upgrade Jobs it creates in its namespace cannot: they mount the
 * host's root, run in its PID namespace and replace the k3s binary, so the
 * namespace is the one place in the cluster at Pod Security "privileged".
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ApiObject, type Chart } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import { parse } from 'yaml';
import { APPLICATION_WAVE, PROJECTS, SYNC_OPTIONS_ANNOTATION } from '../argocd/application.js';
import { CRD_SYNC_OPTIONS } from '../charts/normalize.js';
import { imageRef, type RenderContext } from '../components/component.js';
import type { Labels } from '../k8s/labels.js';
import { podSecurityNamespace } from '../k8s/namespace.js';
import { SYNC_WAVE, syncWave } from '../k8s/sync-waves.js';
import { controllerDeployment, podSpec } from '../k8s/workload.js';
import { NAMESPACES } from '../platform-names.js';
import { addOnLabels, type AddOn } from './addon.js';
import { addOnNetworkPolicies, toApiServer } from './network.js';

const NAME = 'system-upgrade';
/** The ServiceAccount the controller runs as and the Plans name (their Jobs run under it too: cordon, drain). */
export const SYSTEM_UPGRADE_SERVICE_ACCOUNT = 'system-upgrade';
/** The controller's name: the value of its pods' `upgrade.cattle.io/controller` label, which the drain skips. */
const CONTROLLER = 'system-upgrade-controller';
const CONTROLLER_UID = 65534;
const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The vendored Plan CRD of a controller release (its image tag, `systemUpgrade.controllerImage.tag`). */
export function planCrdFile(version: string): string {
  return join('vendor', 'system-upgrade-controller', version, 'upgrade.cattle.io_plans.yaml');
}

export const PRIVILEGED_REASON =
  'the upgrade Jobs of the Plans run here and must be privileged on the node (host PID, the host root mounted at /host, replacing the k3s binary and restarting its service); "baseline" forbids all three, so no narrower level admits them. The controller pod itself is restricted.';

export function planCrd(version: string, root = PROJECT_ROOT): Record<string, unknown> {
  const file = planCrdFile(version);
  if (!existsSync(join(root, file))) {
    throw new Error(`${file}: no vendored Plan CRD for system-upgrade-controller ${version} (systemUpgrade.controllerImage.tag). Fix: vendor that release's upgrade.cattle.io_plans.yaml there, or keep the tag of a vendored release.`);
  }
  const crd = parse(readFileSync(join(root, file), 'utf8')) as { kind?: string; metadata: { annotations?: Record<string, string> } };
  if (crd.kind !== 'CustomResourceDefinition') throw new Error(`${file}: not a CustomResourceDefinition`);
  crd.metadata.annotations = { ...crd.metadata.annotations, [SYNC_OPTIONS_ANNOTATION]: CRD_SYNC_OPTIONS };
  return crd as Record<string, unknown>;
}

type Rule = k8s.PolicyRule;
const READ = ['get', 'list', 'watch'];

/** What the controller does cluster-wide: watch Plans, nodes and its Jobs, label nodes, keep its CRD, elect a leader. */
function controllerRules(): Rule[] {
  return [
    { apiGroups: ['upgrade.cattle.io'], resources: ['plans', 'plans/status'], verbs: [...READ, 'create', 'patch', 'update', 'delete'] },
    { apiGroups: [''], resources: ['nodes'], verbs: [...READ, 'update'] },
    { apiGroups: [''], resources: ['namespaces'], verbs: READ },
    { apiGroups: ['batch'], resources: ['jobs'], verbs: READ },
    { apiGroups: [''], resources: ['events'], verbs: ['get', 'create', 'patch', 'update'] },
    { apiGroups: ['apiextensions.k8s.io'], resources: ['customresourcedefinitions'], verbs: [...READ, 'create', 'patch', 'update'] },
    { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['create'] },
    { apiGroups: ['coordination.k8s.io'], resources: ['leases'], resourceNames: [CONTROLLER], verbs: ['get', 'update'] },
  ];
}

/** What the Jobs' kubectl needs to cordon and drain a node (evictions honour PodDisruptionBudgets). */
function drainerRules(): Rule[] {
  return [
    { apiGroups: [''], resources: ['pods/eviction'], verbs: ['create'] },
    { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'delete'] },
    { apiGroups: [''], resources: ['nodes'], verbs: ['get', 'patch'] },
    { apiGroups: ['apps'], resources: ['statefulsets', 'daemonsets', 'replicasets'], verbs: ['get', 'list'] },
  ];
}

/** In its own namespace only: create the upgrade Jobs, read the Secrets a Plan may mount. */
function namespacedRules(): Rule[] {
  return [
    { apiGroups: ['batch'], resources: ['jobs'], verbs: [...READ, 'create', 'delete', 'deletecollection', 'patch', 'update'] },
    { apiGroups: [''], resources: ['secrets'], verbs: READ },
  ];
}

function rbac(chart: Chart, labels: Labels): void {
  const namespace = NAMESPACES.systemUpgrade;
  const subjects = [{ kind: 'ServiceAccount', name: SYSTEM_UPGRADE_SERVICE_ACCOUNT, namespace }];
  new k8s.KubeServiceAccount(chart, 'service-account', {
    metadata: { name: SYSTEM_UPGRADE_SERVICE_ACCOUNT, namespace, labels, annotations: syncWave(SYNC_WAVE.secrets) },
  });
  for (const [name, rules] of [
    [CONTROLLER, controllerRules()],
    [`${CONTROLLER}-drainer`, drainerRules()],
  ] as const) {
    new k8s.KubeClusterRole(chart, `cluster-role-${name}`, { metadata: { name, labels }, rules });
    new k8s.KubeClusterRoleBinding(chart, `cluster-role-binding-${name}`, {
      metadata: { name, labels },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name },
      subjects,
    });
  }
  new k8s.KubeRole(chart, 'role', { metadata: { name: CONTROLLER, namespace, labels }, rules: namespacedRules() });
  new k8s.KubeRoleBinding(chart, 'role-binding', {
    metadata: { name: CONTROLLER, namespace, labels },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: CONTROLLER },
    subjects,
  });
}

/** The controller's settings (the upstream manifest's ConfigMap keys), as env. */
function controllerEnv(context: RenderContext): k8s.EnvVar[] {
  const settings: Record<string, string> = {
    SYSTEM_UPGRADE_CONTROLLER_DEBUG: 'false',
    SYSTEM_UPGRADE_CONTROLLER_THREADS: '2',
    SYSTEM_UPGRADE_CONTROLLER_LEADER_ELECT: 'true',
    SYSTEM_UPGRADE_CONTROLLER_NAME: CONTROLLER,
    // A Job that has not finished in 15 min is failed and retried, never left holding a cordoned node forever.
    SYSTEM_UPGRADE_JOB_ACTIVE_DEADLINE_SECONDS: '900',
    SYSTEM_UPGRADE_JOB_BACKOFF_LIMIT: '3',
    SYSTEM_UPGRADE_JOB_IMAGE_PULL_POLICY: 'IfNotPresent',
    SYSTEM_UPGRADE_JOB_KUBECTL_IMAGE: imageRef(context.config.systemUpgrade.kubectlImage),
    SYSTEM_UPGRADE_JOB_PRIVILEGED: 'true',
    SYSTEM_UPGRADE_JOB_TTL_SECONDS_AFTER_FINISH: '900',
    SYSTEM_UPGRADE_PLAN_POLLING_INTERVAL: '15m',
  };
  return [
    ...Object.entries(settings).map(([name, value]) => ({ name, value })),
    { name: 'SYSTEM_UPGRADE_CONTROLLER_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
    { name: 'SYSTEM_UPGRADE_CONTROLLER_NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
  ];
}

function controller(chart: Chart, context: RenderContext, labels: Labels): void {
  const selector = { 'upgrade.cattle.io/controller': CONTROLLER };
  const spec = podSpec({
    serviceAccountName: SYSTEM_UPGRADE_SERVICE_ACCOUNT,
    runAs: { uid: CONTROLLER_UID, gid: CONTROLLER_UID },
    containers: [
      {
        name: CONTROLLER,
        image: imageRef(context.config.systemUpgrade.controllerImage),
        env: controllerEnv(context),
        resources: { requests: { cpu: '10m', memory: '32Mi' }, limits: { memory: '128Mi' } },
        writableDirs: [{ name: 'tmp', mountPath: '/tmp', sizeLimit: '64Mi' }],
      },
    ],
  });
  controllerDeployment(chart, 'controller', {
    name: CONTROLLER,
    namespace: NAMESPACES.systemUpgrade,
    labels,
    selector,
    pod: {
      ...spec,
      // On a server, so it survives the agents' drains; it tolerates the servers' taints.
      affinity: {
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: {
            nodeSelectorTerms: [{ matchExpressions: [{ key: 'node-role.kubernetes.io/control-plane', operator: 'Exists' }] }],
          },
        },
      },
      tolerations: [
        { key: 'CriticalAddonsOnly', operator: 'Exists' },
        { key: 'node-role.kubernetes.io/control-plane', operator: 'Exists', effect: 'NoSchedule' },
      ],
    },
    apiAccess: 'the controller watches Plans and nodes and creates the upgrade Jobs through the API',
  });
}

export const systemUpgrade: AddOn = {
  enabled: () => true,
  info: ({ config }: RenderContext) => ({
    folder: NAME,
    description: `system-upgrade-controller ${config.systemUpgrade.controllerImage.tag} (vendored Plan CRD), its RBAC and its privileged namespace for the K3s upgrade Jobs`,
    versions: { 'system-upgrade-controller': config.systemUpgrade.controllerImage.tag },
  }),
  build(chart: Chart, context: RenderContext) {
    const labels = addOnLabels(NAME);
    const namespace = NAMESPACES.systemUpgrade;
    podSecurityNamespace(chart, { name: namespace, labels, kubernetes: context.kubernetes, holdsData: false, level: 'privileged', exceptionReason: PRIVILEGED_REASON });
    addOnNetworkPolicies(chart, {
      namespace,
      labels,
      // The upgrade Jobs run on the host network (NetworkPolicies do not apply to them); only the controller is in the pod network.
      egress: [{ name: 'api-server', reason: 'the controller watches Plans and Nodes and creates the upgrade Jobs through the API server', to: [toApiServer(context.config)] }],
    });
    new ApiObject(chart, 'plan-crd', planCrd(context.config.systemUpgrade.controllerImage.tag) as never);
    rbac(chart, labels);
    controller(chart, context, labels);
  },
  application: () => ({ project: PROJECTS.platform, wave: APPLICATION_WAVE.crdAddOns, namespace: NAMESPACES.systemUpgrade }),
};
