/**
 * A policy rule checks the rendered objects of one environment. Each rule has
 * an id (what an exception annotation names), a one-line reason, and the
 * public checks it mirrors, so a reviewer can compare it with the upstream tool.
 */
import type { Manifest, ManifestDoc } from '../manifests.js';

export type Path = (string | number)[];

export interface Violation {
  doc: ManifestDoc;
  path: Path;
  message: string;
}

export interface PolicyContext {
  env: string;
  docs: ManifestDoc[];
  /** Objects of one kind, in rendering order. */
  ofKind(kind: string): ManifestDoc[];
}

export interface PolicyRule {
  id: string;
  /** Why the rule exists, in one line. */
  reason: string;
  /** The public checks it mirrors: Pod Security Standards, checkov CKV_K8S_*, kube-score, kube-linter. */
  mirrors: string[];
  check(context: PolicyContext): Violation[];
}

export function violation(doc: ManifestDoc, path: Path, message: string): Violation {
  return { doc, path, message };
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

export function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

export function get(object: unknown, path: readonly (string | number)[]): unknown {
  let current = object;
  for (const segment of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string | number, unknown>)[segment];
  }
  return current;
}

export function namespaceOf(manifest: Manifest): string | undefined {
  return manifest.metadata?.namespace;
}

/** Whether a label selector (`matchLabels` / `matchExpressions`) selects these labels. */
export function selects(selector: unknown, labels: Record<string, string>): boolean {
  if (!isRecord(selector)) return false;
  const matchLabels = isRecord(selector.matchLabels) ? (selector.matchLabels as Record<string, string>) : {};
  for (const [key, value] of Object.entries(matchLabels)) if (labels[key] !== value) return false;
  for (const expression of asArray(selector.matchExpressions)) {
    if (!isRecord(expression)) return false;
    const key = String(expression.key);
    const values = asArray(expression.values).map(String);
    const has = key in labels;
    switch (expression.operator) {
      case 'In':
        if (!has || !values.includes(labels[key]!)) return false;
        break;
      case 'NotIn':
        if (has && values.includes(labels[key]!)) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}

/** A Service's `spec.selector` is a plain label map. */
export function mapSelects(selector: unknown, labels: Record<string, string>): boolean {
  if (!isRecord(selector) || Object.keys(selector).length === 0) return false;
  return Object.entries(selector).every(([key, value]) => labels[key] === value);
}
