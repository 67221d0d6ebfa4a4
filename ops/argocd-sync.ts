/**
 * Pausing and resuming Argo CD's automated sync of Applications, for verbs
 * that change live objects Argo CD would otherwise put back (self-heal). The
 * root Application (the app of apps) is paused first and resumed last: while
 * it syncs automatically it re-applies every child Application's spec from
 * git, automated sync included.
 */
import { RESOURCES, type KubeClient } from './kube.js';
import type { Step } from './plan.js';

export const ARGOCD_NAMESPACE = 'argocd';

export interface SyncPause {
  /** Steps that remove `spec.syncPolicy.automated` (root first), remembering what each had. */
  pause: Step[];
  /** Steps that put back what pause removed (child first, root last); skips what was not paused. */
  resume: Step[];
}

/** `applications` in pause order (the root first). */
export function syncPause(kube: () => KubeClient, applications: string[]): SyncPause {
  const saved = new Map<string, unknown>();
  const pause = applications.map((name) => ({
    title: `pause automated sync of Argo CD Application ${ARGOCD_NAMESPACE}/${name}`,
    async run() {
      const app = await kube().get(RESOURCES.application, ARGOCD_NAMESPACE, name);
      const automated = app.spec?.syncPolicy?.automated;
      if (automated === undefined) return; // already manual: nothing to put back
      saved.set(name, automated);
      await kube().mergePatch(RESOURCES.application, ARGOCD_NAMESPACE, name, { spec: { syncPolicy: { automated: null } } });
    },
  }));
  const resume = [...applications].reverse().map((name) => ({
    title: `re-enable automated sync of Argo CD Application ${ARGOCD_NAMESPACE}/${name}`,
    async run() {
      if (!saved.has(name)) return;
      await kube().mergePatch(RESOURCES.application, ARGOCD_NAMESPACE, name, { spec: { syncPolicy: { automated: saved.get(name) } } });
      saved.delete(name);
    },
  }));
  return { pause, resume };
}
