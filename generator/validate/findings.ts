/**
 * One shape for everything a validation gate reports, so the report, the JSON
 * output and the render hook print the same `file · resource · field · message`.
 */
export type Gate = 'kubeconform' | 'schema' | 'policy' | 'secrets' | 'deprecations' | 'scanners';
export type Severity = 'error' | 'warning';

export interface Finding {
  gate: Gate;
  severity: Severity;
  /** Path relative to the repository root, e.g. `rendered/dev/litellm/deployment_litellm_litellm.yaml`. */
  file: string;
  line?: number;
  /** `Deployment litellm/litellm`; empty when the finding is about the file, not a resource. */
  resource: string;
  /** Field path inside the resource, e.g. `spec.template.spec.containers[0].image`. */
  path: string;
  message: string;
  /** Policy rule or secretlint rule id. */
  rule?: string;
}

/** A policy exception that was used: reported, never silent. */
export interface ExceptionUse {
  file: string;
  resource: string;
  rule: string;
  reason: string;
}

/** `['spec', 'containers', 0, 'image']` → `spec.containers[0].image`; keys with dots or slashes are quoted: `metadata.annotations["argocd.argoproj.io/sync-wave"]`. */
export function fieldPath(segments: readonly (string | number)[]): string {
  let out = '';
  for (const segment of segments) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (/^[A-Za-z_$][\w$-]*$/.test(segment)) out += out === '' ? segment : `.${segment}`;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out;
}

/** `rendered/dev/x.yaml:12 · Deployment ns/name · spec.replicas · must be integer` */
export function formatFinding(finding: Finding): string {
  const message = finding.rule ? `${finding.message} [${finding.rule}]` : finding.message;
  if (finding.file === '') return message;
  const where = finding.line === undefined ? finding.file : `${finding.file}:${finding.line}`;
  return [where, finding.resource || '(file)', finding.path || '(resource)', message].join(' · ');
}

export function sortFindings(findings: Finding[]): Finding[] {
  const key = (f: Finding) => `${f.file}\u0000${String(f.line ?? 0).padStart(6, '0')}\u0000${f.path}\u0000${f.message}`;
  return [...findings].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}
