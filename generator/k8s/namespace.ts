import { k8s } from 'cdk8s-plus-28';
import type { Construct } from 'constructs';
import type { KubernetesVersion } from '../kubernetes-version.js';
import { policyException } from '../policy-exceptions.js';
import { DATA_SAFETY_ANNOTATIONS, SYNC_WAVE, syncWave } from './sync-waves.js';
import type { Labels } from './labels.js';

export type PodSecurityLevel = 'restricted' | 'baseline' | 'privileged';

export interface NamespaceProps {
  name: string;
  labels: Labels;
  kubernetes: KubernetesVersion;
  /** Holds PersistentVolumeClaims or volume data: never pruned or deleted by Argo CD. */
  holdsData: boolean;
}

/**
 * A namespace enforcing a Pod Security Standard level at the cluster's
 * Kubernetes minor. Anything below "restricted" is a policy exception and
 * must say why. A namespace holding data is never pruned or deleted by Argo CD
 * (deleting it would delete the claims).
 */
export function podSecurityNamespace(
  scope: Construct,
  props: NamespaceProps & { level: PodSecurityLevel; exceptionReason?: string },
): k8s.KubeNamespace {
  if (props.level !== 'restricted' && !props.exceptionReason) {
    throw new Error(`namespace ${props.name}: Pod Security level "${props.level}" needs an exceptionReason`);
  }
  const version = `v${props.kubernetes.short}`;
  const modes = ['enforce', 'audit', 'warn'] as const;
  const podSecurity: Labels = {};
  for (const mode of modes) {
    podSecurity[`pod-security.kubernetes.io/${mode}`] = props.level;
    podSecurity[`pod-security.kubernetes.io/${mode}-version`] = version;
  }
  return new k8s.KubeNamespace(scope, `namespace-${props.name}`, {
    metadata: {
      name: props.name,
      labels: { ...props.labels, ...podSecurity },
      annotations: {
        ...syncWave(SYNC_WAVE.namespace),
        ...(props.holdsData ? DATA_SAFETY_ANNOTATIONS : {}),
        ...(props.exceptionReason ? policyException('pod-security-restricted', props.exceptionReason) : {}),
      },
    },
  });
}

/** A namespace enforcing the Pod Security Standard "restricted". */
export function restrictedNamespace(scope: Construct, props: NamespaceProps): k8s.KubeNamespace {
  return podSecurityNamespace(scope, { ...props, level: 'restricted' });
}
