/**
 * Admission warnings the API server may return for rendered resources that
 * are accepted on purpose, each with its reason and the resources it may come
 * from. Any other warning fails the cluster test: a warning today (deprecated
 * API, PodSecurity `warn` level, unknown field) is often a refusal after the
 * next upgrade.
 */
export interface AllowedWarning {
  /** Matched against the warning text the API server sent. */
  pattern: RegExp;
  /** Matched against each resource of the applied file (`Kind namespace/name`); all must match. */
  resources: RegExp;
  reason: string;
}

export const ALLOWED_WARNINGS: readonly AllowedWarning[] = [
  {
    pattern: /^metadata\.finalizers: "resources-finalizer\.argocd\.argoproj\.io": prefer a domain-qualified finalizer name/,
    resources: /^(Application|AppProject) argocd\//,
    reason: "Argo CD's own finalizer (deletes an Application's resources with it); the name is Argo CD's, not ours to change",
  },
  {
    pattern: /^unrecognized format "int64"$/,
    resources: /^CustomResourceDefinition [a-z0-9]+\.longhorn\.io$/,
    reason: "Longhorn's own CRDs (chart output) put format int64 on fields the API server checks by type only; nothing is lost, and the CRDs are not ours to edit",
  },
];

export function allowedWarning(warning: string, resources: readonly string[], allowed: readonly AllowedWarning[] = ALLOWED_WARNINGS): AllowedWarning | undefined {
  return allowed.find((entry) => entry.pattern.test(warning) && resources.length > 0 && resources.every((resource) => entry.resources.test(resource)));
}
