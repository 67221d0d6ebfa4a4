/**
 * The Pod Security Standard "restricted" profile, as security contexts. Every
 * workload the generator renders uses these two builders.
 */
import type { k8s } from 'cdk8s-plus-28';

export interface RunAs {
  uid: number;
  gid: number;
}

/**
 * The node image's (Ubuntu) regular-user ids: /etc/login.defs UID_MIN..UID_MAX
 * and GID_MIN..GID_MAX. `ubuntu` (1000, sudo-capable) is the first, and a
 * user added on the node gets the next free id in it, so a container process
 * with such an id lands as a login user after an escape (policy rule node-login-ids).
 */
export const NODE_LOGIN_IDS = { first: 1000, last: 60000 } as const;

/**
 * The ids the repository runs its own non-root processes as, where the image
 * does not bring a suitable one: above the node's login range, in 60578-61183,
 * which systemd leaves unassigned (between its container and dynamic-user
 * ranges), one per component so no two share files on the node, and never
 * 65534 (nobody, which LiteLLM's and several charts' images use).
 */
export const SERVICE_IDS = { openWebUI: 61000, tailscaleProxy: 61001, externalSecrets: 61002, valkey: 61003, victoriaLogs: 61004, reloader: 61005 } as const;

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
