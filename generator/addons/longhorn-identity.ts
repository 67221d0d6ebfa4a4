/**
 * LonghornRole for the Longhorn processes that talk to S3 (docs/workload-identity.md,
 * "What Longhorn does"). Their pods are not ours to render: longhorn-manager
 * creates the instance-manager pods at run time, and its own DaemonSet comes
 * from the chart. A MutatingAdmissionPolicy (built into kube-apiserver since
 * Kubernetes 1.36, no webhook) gives exactly those pods the projected
 * sts.amazonaws.com token and the web-identity variables that
 * generator/k8s/web-identity.ts renders for our own pods, with the same values.
 */
import { ApiObject, type Chart } from 'cdk8s';
import type { k8s } from 'cdk8s-plus-28';
import { WORKLOAD_IDENTITIES } from '../../bootstrap/names.js';
import { SYNC_WAVE_ANNOTATION } from '../argocd/application.js';
import type { RenderContext } from '../components/component.js';
import { settingsSecret } from '../k8s/external-secret.js';
import type { Labels } from '../k8s/labels.js';
import { WEB_IDENTITY_VOLUME, webIdentityEnv, webIdentityMount, webIdentityVolume } from '../k8s/web-identity.js';

export const LONGHORN_IDENTITY_POLICY = 'longhorn-web-identity';
/** The backup target's credential Secret: the role ARN only, no key (see longhornBackupCredential). */
export const LONGHORN_BACKUP_CREDENTIAL = 'longhorn-backup-target';
/** The first Kubernetes minor serving admissionregistration.k8s.io/v1 MutatingAdmissionPolicy by default (GA). */
export const MUTATING_ADMISSION_POLICY_MINOR = 36;

/**
 * The Longhorn pods that run backupstore: the instance managers (backup create
 * and restore, in the replica's sync agent) and longhorn-manager (it runs the
 * engine binary to list, inspect and delete backups; the child inherits its
 * environment). Both carry these labels in Longhorn v1.12.0.
 */
export const LONGHORN_S3_PODS: readonly { label: string; value: string }[] = [
  { label: 'longhorn.io/component', value: 'instance-manager' },
  { label: 'app', value: 'longhorn-manager' },
];

/** A JSON-like value as a CEL literal typed for the mutation: objects become `<type>{field: ...}`, list items keep the list's type. */
export function celLiteral(type: string, value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((item) => celLiteral(type, item)).join(', ')}]`;
  if (value !== null && typeof value === 'object') {
    const fields = Object.entries(value as Record<string, unknown>).map(([key, field]) => `${key}: ${celLiteral(`${type}.${key}`, field)}`);
    return `${type}{${fields.join(', ')}}`;
  }
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw new Error(`celLiteral: ${type}: unsupported value ${String(value)}`);
}

const quote = (text: string) => `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
const hasLabel = ({ label, value }: { label: string; value: string }) => `(${quote(label)} in object.metadata.labels && object.metadata.labels[${quote(label)}] == ${quote(value)})`;

export interface LonghornIdentityProps {
  roleArn: string;
  region: string;
}

/** The policy's spec: which pods, and what they get. */
export function longhornIdentityPolicySpec({ roleArn, region }: LonghornIdentityProps): Record<string, unknown> {
  const { namespace, serviceAccount } = WORKLOAD_IDENTITIES.longhorn;
  const volume: k8s.Volume = webIdentityVolume;
  const addVolume = (path: string, value: string) => `JSONPatch{op: "add", path: "${path}", value: ${value}}`;
  const volumeLiteral = celLiteral('Object.spec.volumes', volume);
  const container = `Object.spec.containers{name: c.name, env: ${celLiteral('Object.spec.containers.env', webIdentityEnv({ roleArn, region }))}, volumeMounts: ${celLiteral('Object.spec.containers.volumeMounts', [webIdentityMount])}}`;
  return {
    // A pod that should have the role and cannot get it is refused: it would start without backup credentials.
    failurePolicy: 'Fail',
    reinvocationPolicy: 'Never',
    matchConstraints: {
      namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': namespace } },
      resourceRules: [{ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE'], resources: ['pods'] }],
    },
    matchConditions: [
      { name: 'longhorn-service-account', expression: `object.spec.serviceAccountName == ${quote(serviceAccount)}` },
      { name: 'runs-backupstore', expression: `has(object.metadata.labels) && (${LONGHORN_S3_PODS.map(hasLabel).join(' || ')})` },
      // Idempotent: a pod that already has the token volume is left as it is.
      { name: 'no-token-volume-yet', expression: `!has(object.spec.volumes) || !object.spec.volumes.exists(v, v.name == ${quote(WEB_IDENTITY_VOLUME)})` },
    ],
    mutations: [
      {
        // A JSON patch: an apply configuration may not change the atomic projected.sources list.
        patchType: 'JSONPatch',
        jsonPatch: { expression: `has(object.spec.volumes) ? [${addVolume('/spec/volumes/-', volumeLiteral)}] : [${addVolume('/spec/volumes', `[${volumeLiteral}]`)}]` },
      },
      {
        // Merged by name (env) and mount path (volumeMounts) into every container.
        patchType: 'ApplyConfiguration',
        applyConfiguration: { expression: `Object{spec: Object.spec{containers: object.spec.containers.map(c, ${container})}}` },
      },
    ],
  };
}

/** Whether the environment's Kubernetes serves the policy API; below it Longhorn gets no role (and no credential Secret). */
export function longhornWebIdentityServed({ kubernetes }: Pick<RenderContext, 'kubernetes'>): boolean {
  return kubernetes.minor >= MUTATING_ADMISSION_POLICY_MINOR;
}

/**
 * Longhorn refuses an S3 backup target without a credential Secret, and reads
 * only fixed keys from it. With AWS_IAM_ROLE_ARN set it lets the access keys
 * be absent (longhorn-manager engineapi/backups.go getBackupCredentialEnv), so
 * the SDK's default chain falls through to the web identity the policy adds.
 * The ARN is not secret; ESO's Fake generator makes the Secret from it.
 */
export function longhornBackupCredential(chart: Chart, context: RenderContext, labels: Labels): void {
  if (!longhornWebIdentityServed(context)) return;
  settingsSecret(chart, {
    name: LONGHORN_BACKUP_CREDENTIAL,
    namespace: WORKLOAD_IDENTITIES.longhorn.namespace,
    labels,
    settings: { AWS_IAM_ROLE_ARN: context.outputs.roles.longhorn },
    reason: 'Longhorn requires a credential Secret for an S3 backup target; it holds only the role ARN (no key), so the pods use web identity',
  });
}

/**
 * Renders the policy and its binding, before the chart's resources (sync wave
 * -1 in the longhorn Application), so the manager's first pods are admitted
 * with it. Nothing below Kubernetes 1.36, where the v1 API is not served.
 */
export function longhornIdentity(chart: Chart, context: RenderContext, labels: Labels): void {
  if (!longhornWebIdentityServed(context)) return;
  const { config, outputs } = context;
  const metadata = { name: LONGHORN_IDENTITY_POLICY, labels, annotations: { [SYNC_WAVE_ANNOTATION]: '-1' } };
  new ApiObject(chart, 'longhorn-web-identity-policy', {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'MutatingAdmissionPolicy',
    metadata,
    spec: longhornIdentityPolicySpec({ roleArn: outputs.roles.longhorn, region: config.aws.region }),
  });
  new ApiObject(chart, 'longhorn-web-identity-binding', {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'MutatingAdmissionPolicyBinding',
    metadata,
    spec: { policyName: LONGHORN_IDENTITY_POLICY },
  });
}
