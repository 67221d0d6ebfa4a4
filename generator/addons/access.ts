/**
 * Per-person access to the Kubernetes API over the tailnet. The Tailscale
 * operator runs its API server proxy in auth mode (generator/addons/tailscale.ts):
 * it authenticates each request by the caller's tailnet identity and forwards
 * it impersonating the tailnet login name as the Kubernetes user, plus the
 * groups that tailnet grants of `tailscale.com/cap/kubernetes` give the caller.
 * This folder binds those users and groups, from `access` in the config, to
 * two roles: platform admins to cluster-admin, operators to a read-only role
 * that cannot read Secrets, exec into pods or port-forward. Removing a person
 * from the config (or from the tailnet) revokes them; the K3s admin
 * certificate is the break-glass path only (docs/access.md).
 */
import type { Chart } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import { APPLICATION_WAVE, PROJECTS } from '../argocd/application.js';
import type { RenderContext } from '../components/component.js';
import type { EnvConfig } from '../config/schema.js';
import { NAMESPACES } from '../platform-names.js';
import { addOnLabels, type AddOn } from './addon.js';

const NAME = 'access';
export const OPERATOR_ROLE = 'dubai-hub-operator';
export const PLATFORM_ADMIN_BINDING = 'dubai-hub-platform-admins';
export const OPERATOR_BINDING = 'dubai-hub-operators';
const RBAC = 'rbac.authorization.k8s.io';
const READ = ['get', 'list', 'watch'];

/** `user:alice@example.com` → User, `group:platform-admins` → Group. */
export function accessSubject(entry: string): k8s.Subject {
  const [kind, ...rest] = entry.split(':');
  return { apiGroup: RBAC, kind: kind === 'user' ? 'User' : 'Group', name: rest.join(':') };
}

/**
 * What an operator may read: workloads, their logs and events, nodes, storage,
 * policies and the platform's custom resources. Never Secrets (nor anything
 * that reveals them: pods/exec, pods/attach, pods/portforward, serviceaccounts/token).
 */
export function operatorRules(): k8s.PolicyRule[] {
  return [
    {
      apiGroups: [''],
      resources: ['pods', 'pods/log', 'services', 'endpoints', 'configmaps', 'events', 'namespaces', 'nodes', 'persistentvolumeclaims', 'persistentvolumes', 'serviceaccounts', 'resourcequotas', 'limitranges', 'replicationcontrollers'],
      verbs: READ,
    },
    { apiGroups: ['apps', 'batch', 'autoscaling', 'policy', 'networking.k8s.io', 'storage.k8s.io', 'discovery.k8s.io', 'events.k8s.io', 'coordination.k8s.io'], resources: ['*'], verbs: READ },
    { apiGroups: ['apiextensions.k8s.io'], resources: ['customresourcedefinitions'], verbs: READ },
    { apiGroups: ['rbac.authorization.k8s.io'], resources: ['roles', 'rolebindings', 'clusterroles', 'clusterrolebindings'], verbs: READ },
    { apiGroups: ['metrics.k8s.io'], resources: ['pods', 'nodes'], verbs: READ },
    // The platform's own custom resources: Argo CD, External Secrets (status only, no values), Longhorn, Tailscale, cert-manager, upgrades.
    { apiGroups: ['argoproj.io', 'external-secrets.io', 'longhorn.io', 'tailscale.com', 'cert-manager.io', 'acme.cert-manager.io', 'upgrade.cattle.io'], resources: ['*'], verbs: READ },
  ];
}

function binding(chart: Chart, name: string, role: string, subjects: readonly string[]): void {
  if (subjects.length === 0) return;
  new k8s.KubeClusterRoleBinding(chart, `binding-${name}`, {
    metadata: { name, labels: addOnLabels(NAME) },
    roleRef: { apiGroup: RBAC, kind: 'ClusterRole', name: role },
    subjects: subjects.map(accessSubject),
  });
}

export function buildAccess(chart: Chart, config: EnvConfig): void {
  new k8s.KubeClusterRole(chart, 'operator-role', { metadata: { name: OPERATOR_ROLE, labels: addOnLabels(NAME) }, rules: operatorRules() });
  binding(chart, PLATFORM_ADMIN_BINDING, 'cluster-admin', config.access.platformAdmins);
  binding(chart, OPERATOR_BINDING, OPERATOR_ROLE, config.access.operators);
}

export const access: AddOn = {
  enabled: () => true,
  info: ({ config }: RenderContext) => ({
    folder: NAME,
    description: `RBAC of the people reaching the API through the Tailscale API server proxy: ${config.access.platformAdmins.length} platform admin subject(s) → cluster-admin, ${config.access.operators.length} operator subject(s) → ${OPERATOR_ROLE} (read-only, no Secrets)`,
    versions: {},
  }),
  build: (chart: Chart, { config }: RenderContext) => buildAccess(chart, config),
  // Cluster-scoped only; the destination namespace is the proxy's.
  application: () => ({ project: PROJECTS.platform, wave: APPLICATION_WAVE.addOnConfig, namespace: NAMESPACES.tailscale }),
};
