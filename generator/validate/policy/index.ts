/**
 * The policy engine: runs every rule over one environment's rendered objects
 * and applies exceptions. An exception is only an annotation on the object
 * that names the rule and gives a reason
 * (`policy.dubai-hub.example/allow-<rule-id>: <reason>`); every exception used
 * is reported, and one that names no rule, or gives no reason, is a finding.
 */
import { POLICY_EXCEPTION_PREFIX } from '../../policy-exceptions.js';
import { fieldPath, type ExceptionUse, type Finding } from '../findings.js';
import type { ManifestDoc } from '../manifests.js';
import { ARGOCD_RULES } from './argocd.js';
import { IMAGE_RULES } from './images.js';
import { PLATFORM_RULES } from './platform.js';
import { POD_SECURITY_RULES } from './pod-security.js';
import type { PolicyContext, PolicyRule, Violation } from './rule.js';
import { SECRET_USE_RULES } from './secret-use.js';
import { RELOAD_RULES } from './reload.js';
import { WORKLOAD_RULES } from './workloads.js';

export const POLICY_RULES: readonly PolicyRule[] = [...POD_SECURITY_RULES, ...WORKLOAD_RULES, ...SECRET_USE_RULES, ...PLATFORM_RULES, ...ARGOCD_RULES, ...IMAGE_RULES, ...RELOAD_RULES];

export function policyContext(env: string, docs: ManifestDoc[]): PolicyContext {
  const byKind = new Map<string, ManifestDoc[]>();
  for (const doc of docs) {
    const kind = String(doc.object.kind);
    byKind.set(kind, [...(byKind.get(kind) ?? []), doc]);
  }
  return { env, docs, ofKind: (kind) => byKind.get(kind) ?? [] };
}

function toFinding(found: Violation, rule: string): Finding {
  return { gate: 'policy', severity: 'error', file: found.doc.file, line: found.doc.lineOf(found.path), resource: found.doc.resource, path: fieldPath(found.path), message: found.message, rule };
}

export interface PolicyResult {
  findings: Finding[];
  exceptions: ExceptionUse[];
}

export function checkPolicy(env: string, docs: ManifestDoc[], rules: readonly PolicyRule[] = POLICY_RULES): PolicyResult {
  const context = policyContext(env, docs);
  const findings: Finding[] = [];
  const used = new Map<string, ExceptionUse>();
  const ruleIds = new Set(POLICY_RULES.map((rule) => rule.id));

  for (const doc of docs) {
    for (const [key, reason] of Object.entries(doc.object.metadata?.annotations ?? {})) {
      if (!key.startsWith(POLICY_EXCEPTION_PREFIX)) continue;
      const rule = key.slice(POLICY_EXCEPTION_PREFIX.length);
      const path = fieldPath(['metadata', 'annotations', key]);
      const base = { gate: 'policy' as const, severity: 'error' as const, file: doc.file, line: doc.lineOf(['metadata', 'annotations', key]), resource: doc.resource, path, rule: 'policy-exception' };
      if (!ruleIds.has(rule)) findings.push({ ...base, message: `exception names no policy rule "${rule}"; known rules: ${[...ruleIds].join(', ')}` });
      else if (typeof reason !== 'string' || reason.trim().length < 10) findings.push({ ...base, message: 'an exception must say why, in a sentence' });
    }
  }

  for (const rule of rules) {
    const exceptionKey = `${POLICY_EXCEPTION_PREFIX}${rule.id}`;
    for (const found of rule.check(context)) {
      const reason = found.doc.object.metadata?.annotations?.[exceptionKey];
      if (typeof reason === 'string' && reason.trim().length >= 10) {
        used.set(`${found.doc.file}#${found.doc.index}#${rule.id}`, { file: found.doc.file, resource: found.doc.resource, rule: rule.id, reason });
      } else {
        findings.push(toFinding(found, rule.id));
      }
    }
  }
  return { findings, exceptions: [...used.values()] };
}
