/**
 * The Pod Security Standard "restricted" profile, as security contexts. Every
 * workload the generator renders uses these two builders.
 */
import type { k8s } from 'cdk8s-plus-28';

export interface RunAs {
  uid: number;
  gid: number;
}

export function restrictedPodSecurityContext(runAs: RunAs): k8s.PodSecurityContext {
  return {
    runAsNonRoot: true,
    runAsUser: runAs.uid,
    runAsGroup: runAs.gid,
    fsGroup: runAs.gid,
    fsGroupChangePolicy: 'OnRootMismatch',
    seccompProfile: { type: 'RuntimeDefault' },
  };
}

export function restrictedContainerSecurityContext(): k8s.SecurityContext {
  return {
    allowPrivilegeEscalation: false,
    privileged: false,
    readOnlyRootFilesystem: true,
    runAsNonRoot: true,
    capabilities: { drop: ['ALL'] },
    seccompProfile: { type: 'RuntimeDefault' },
  };
}
