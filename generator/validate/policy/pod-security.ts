/**
 * The Pod Security Standard "restricted" profile (which includes "baseline"),
 * plus the hardening checks that usually go with it, as policy rules.
 */
import { containersOf, podTemplates, type ContainerRef, type PodTemplate } from './pods.js';
import { asArray, get, isRecord, violation, type Path, type PolicyContext, type PolicyRule, type Violation } from './rule.js';
import { NODE_LOGIN_IDS } from '../../k8s/security.js';

type Finding = { path: Path; message: string };

function podRule(id: string, reason: string, mirrors: string[], check: (pod: PodTemplate) => Finding[]): PolicyRule {
  return {
    id,
    reason,
    mirrors,
    check: (context) => podTemplates(context.docs).flatMap((pod) => check(pod).map((found) => violation(pod.doc, found.path, found.message))),
  };
}

function containerRule(id: string, reason: string, mirrors: string[], check: (ref: ContainerRef) => Finding[]): PolicyRule {
  return podRule(id, reason, mirrors, (pod) => containersOf(pod).flatMap(check));
}

const securityContext = (ref: ContainerRef) => (isRecord(ref.container.securityContext) ? ref.container.securityContext : {});
const at = (ref: ContainerRef, ...rest: (string | number)[]): Path => [...ref.path, 'securityContext', ...rest];
const named = (ref: ContainerRef) => `container "${String(ref.container.name)}"`;

/** A security-context flag the container must set to `expected`. */
function requireFlag(ref: ContainerRef, field: string, expected: boolean, fix: string): Finding[] {
  return securityContext(ref)[field] === expected ? [] : [{ path: at(ref, field), message: `${named(ref)} must set securityContext.${field}: ${String(expected)}${fix}` }];
}

/** Container value wins over the pod value, as in the kubelet. */
function effective(ref: ContainerRef, field: string): { value: unknown; path: Path } {
  const own = securityContext(ref)[field];
  if (own !== undefined) return { value: own, path: at(ref, field) };
  return { value: get(ref.pod.spec, ['securityContext', field]), path: [...ref.pod.specPath, 'securityContext', field] };
}

const isLoginId = (value: unknown) => typeof value === 'number' && value >= NODE_LOGIN_IDS.first && value <= NODE_LOGIN_IDS.last;
const LOGIN_ID_FIX = `the node's login users have ids ${NODE_LOGIN_IDS.first}-${NODE_LOGIN_IDS.last} (1000 is the sudo-capable \`ubuntu\`); use an id from SERVICE_IDS in generator/k8s/security.ts`;

/** runAsUser/runAsGroup of a security context, fsGroup and supplementalGroups of a pod's, that fall in the node's login range. */
function loginIds(context: unknown, path: Path, what: string): Finding[] {
  if (!isRecord(context)) return [];
  const found: Finding[] = [];
  for (const field of ['runAsUser', 'runAsGroup', 'fsGroup']) {
    if (isLoginId(context[field])) found.push({ path: [...path, field], message: `${what} sets ${field}: ${String(context[field])}; ${LOGIN_ID_FIX}` });
  }
  asArray(context.supplementalGroups).forEach((group, index) => {
    if (isLoginId(group)) found.push({ path: [...path, 'supplementalGroups', index], message: `${what} adds supplemental group ${String(group)}; ${LOGIN_ID_FIX}` });
  });
  return found;
}

/** The pods a Tailscale ProxyClass makes the operator create. */
function proxyClassLoginIds(context: PolicyContext): Violation[] {
  return context.ofKind('ProxyClass').flatMap((doc) => {
    const pod: Path = ['spec', 'statefulSet', 'pod'];
    return [
      ...loginIds(get(doc.object, [...pod, 'securityContext']), [...pod, 'securityContext'], 'the proxy pod'),
      ...['tailscaleContainer', 'tailscaleInitContainer'].flatMap((name) =>
        loginIds(get(doc.object, [...pod, name, 'securityContext']), [...pod, name, 'securityContext'], `proxy container ${name}`),
      ),
    ].map((found) => violation(doc, found.path, found.message));
  });
}

const RESTRICTED_VOLUME_TYPES = ['configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral', 'persistentVolumeClaim', 'projected', 'secret'];

export const POD_SECURITY_RULES: PolicyRule[] = [
  containerRule(
    'privileged-container',
    'A privileged container has every capability and the host devices: one escape owns the node.',
    ['PSS baseline: Privileged Containers', 'checkov CKV_K8S_16', 'kube-linter privileged-container', 'kube-score container-security-context-privileged'],
    (ref) => (securityContext(ref).privileged === true ? [{ path: at(ref, 'privileged'), message: `${named(ref)} is privileged; set securityContext.privileged: false` }] : []),
  ),
  containerRule(
    'privilege-escalation',
    'setuid binaries must not be able to gain more privileges than the process started with.',
    ['PSS restricted: Privilege Escalation', 'checkov CKV_K8S_20', 'kube-linter privilege-escalation-container'],
    (ref) => requireFlag(ref, 'allowPrivilegeEscalation', false, ''),
  ),
  containerRule(
    'drop-all-capabilities',
    'Containers start with no Linux capabilities; only NET_BIND_SERVICE may be added back.',
    ['PSS restricted: Capabilities', 'checkov CKV_K8S_28', 'checkov CKV_K8S_37', 'kube-linter drop-net-raw-capability'],
    (ref) => {
      const capabilities = isRecord(securityContext(ref).capabilities) ? (securityContext(ref).capabilities as Record<string, unknown>) : {};
      const found: Finding[] = [];
      if (!asArray(capabilities.drop).includes('ALL')) found.push({ path: at(ref, 'capabilities', 'drop'), message: `${named(ref)} must drop ALL capabilities (capabilities.drop: [ALL])` });
      asArray(capabilities.add).forEach((capability, index) => {
        if (capability !== 'NET_BIND_SERVICE') found.push({ path: at(ref, 'capabilities', 'add', index), message: `${named(ref)} adds capability ${String(capability)}; only NET_BIND_SERVICE is allowed` });
      });
      return found;
    },
  ),
  containerRule(
    'run-as-non-root',
    'A process running as root in the container is root on the node after an escape.',
    ['PSS restricted: Running as Non-root', 'PSS restricted: Running as Non-root user', 'checkov CKV_K8S_23', 'checkov CKV_K8S_40', 'kube-linter run-as-non-root', 'kube-score container-security-context-user-group-id'],
    (ref) => {
      const found: Finding[] = [];
      const nonRoot = effective(ref, 'runAsNonRoot');
      if (nonRoot.value !== true) found.push({ path: nonRoot.path, message: `${named(ref)} must run with runAsNonRoot: true (set it on the pod or the container)` });
      const user = effective(ref, 'runAsUser');
      if (user.value === 0) found.push({ path: user.path, message: `${named(ref)} runs as UID 0; use a non-zero runAsUser` });
      return found;
    },
  ),
  {
    id: 'node-login-ids',
    reason:
      "A container process whose UID or GID is a login user of the node image (Ubuntu's 1000-60000; 1000 is the sudo-capable `ubuntu`) is that user, with its files and groups, after a container escape.",
    mirrors: ['kube-score container-security-context-user-group-id (UID/GID above 10000)', 'checkov CKV_K8S_40 (high UID)'],
    check: (context) => [
      ...podTemplates(context.docs).flatMap((pod) => [
        ...loginIds(pod.spec.securityContext, [...pod.specPath, 'securityContext'], 'the pod'),
        ...containersOf(pod).flatMap((ref) => loginIds(ref.container.securityContext, at(ref), named(ref))),
      ].map((found) => violation(pod.doc, found.path, found.message))),
      ...proxyClassLoginIds(context),
    ],
  },
  containerRule(
    'seccomp-profile',
    "The runtime's default seccomp profile blocks syscalls containers never need.",
    ['PSS restricted: Seccomp', 'checkov CKV_K8S_31', 'kube-score container-seccomp-profile'],
    (ref) => {
      const profile = effective(ref, 'seccompProfile');
      const type = get(profile.value, ['type']);
      return type === 'RuntimeDefault' || type === 'Localhost'
        ? []
        : [{ path: [...profile.path, 'type'], message: `${named(ref)} needs seccompProfile.type RuntimeDefault or Localhost (got ${type === undefined ? 'none' : String(type)})` }];
    },
  ),
  podRule(
    'host-namespaces',
    "Sharing the host's network, PID or IPC namespace exposes the node's processes and interfaces.",
    ['PSS baseline: Host Namespaces', 'checkov CKV_K8S_17', 'checkov CKV_K8S_18', 'checkov CKV_K8S_19', 'kube-linter host-network', 'kube-linter host-pid', 'kube-linter host-ipc'],
    (pod) =>
      ['hostNetwork', 'hostPID', 'hostIPC']
        .filter((field) => pod.spec[field] === true)
        .map((field) => ({ path: [...pod.specPath, field], message: `pod uses the host's namespace (${field}: true); remove it` })),
  ),
  podRule(
    'host-path-volume',
    'hostPath volumes read and write the node filesystem.',
    ['PSS baseline: HostPath Volumes', 'kube-linter sensitive-host-mounts'],
    (pod) =>
      asArray(pod.spec.volumes).flatMap((volume, index) =>
        isRecord(volume) && volume.hostPath !== undefined ? [{ path: [...pod.specPath, 'volumes', index, 'hostPath'], message: `volume "${String(volume.name)}" is a hostPath; use a PersistentVolumeClaim or emptyDir` }] : [],
      ),
  ),
  containerRule(
    'host-port',
    'hostPort binds the node interface, bypassing Services and NetworkPolicy.',
    ['PSS baseline: Host Ports', 'checkov CKV_K8S_26'],
    (ref) =>
      asArray(ref.container.ports).flatMap((port, index) =>
        isRecord(port) && typeof port.hostPort === 'number' && port.hostPort !== 0 ? [{ path: [...ref.path, 'ports', index, 'hostPort'], message: `${named(ref)} binds hostPort ${port.hostPort}; expose it with a Service` }] : [],
      ),
  ),
  podRule(
    'restricted-volume-types',
    'Only volume types that cannot reach the node or the network are allowed.',
    ['PSS restricted: Volume Types'],
    (pod) =>
      asArray(pod.spec.volumes).flatMap((volume, index) => {
        if (!isRecord(volume)) return [];
        const types = Object.keys(volume).filter((key) => key !== 'name');
        return types
          .filter((type) => !RESTRICTED_VOLUME_TYPES.includes(type))
          .map((type) => ({ path: [...pod.specPath, 'volumes', index, type], message: `volume "${String(volume.name)}" has type ${type}; allowed: ${RESTRICTED_VOLUME_TYPES.join(', ')}` }));
      }),
  ),
  containerRule(
    'read-only-root-filesystem',
    'A read-only root filesystem stops an intruder from changing binaries; writable paths are explicit volumes.',
    ['checkov CKV_K8S_22', 'kube-score container-security-context-readonlyrootfilesystem', 'kube-linter no-read-only-root-fs'],
    (ref) => requireFlag(ref, 'readOnlyRootFilesystem', true, ' (mount emptyDir volumes where it writes)'),
  ),
  podRule(
    'service-account-token-automount',
    'Pods that do not call the Kubernetes API must not carry an API token.',
    ['checkov CKV_K8S_38'],
    (pod) =>
      pod.spec.automountServiceAccountToken === false
        ? []
        : [{ path: [...pod.specPath, 'automountServiceAccountToken'], message: 'set automountServiceAccountToken: false (or add an exception annotation saying why the pod calls the API)' }],
  ),
];
