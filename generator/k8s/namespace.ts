import { k8s } from 'cdk8s-plus-28';
import type { Construct } from 'constructs';
import type { KubernetesVersion } from '../kubernetes-version.js';
import { DATA_SAFETY_ANNOTATIONS, SYNC_WAVE, syncWave } from './sync-waves.js';
import type { Labels } from './labels.js';

/**
 * A namespace enforcing the Pod Security Standard "restricted" at the
 * cluster's Kubernetes minor. A namespace holding a PVC is never pruned or
 * deleted by Argo CD (deleting it would delete the claim).
 */
export function restrictedNamespace(
  scope: Construct,
  props: { name: string; labels: Labels; kubernetes: KubernetesVersion; holdsData: boolean },
): k8s.KubeNamespace {
  const version = `v${props.kubernetes.short}`;
  return new k8s.KubeNamespace(scope, `namespace-${props.name}`, {
    metadata: {
      name: props.name,
      labels: {
        ...props.labels,
        'pod-security.kubernetes.io/enforce': 'restricted',
        'pod-security.kubernetes.io/enforce-version': version,
        'pod-security.kubernetes.io/audit': 'restricted',
        'pod-security.kubernetes.io/audit-version': version,
        'pod-security.kubernetes.io/warn': 'restricted',
        'pod-security.kubernetes.io/warn-version': version,
      },
      annotations: { ...syncWave(SYNC_WAVE.namespace), ...(props.holdsData ? DATA_SAFETY_ANNOTATIONS : {}) },
    },
  });
}
