/**
 * Upgrade check: validates each environment against the schemas of the next
 * Kubernetes minor as well, and reports the APIs and fields that would break.
 * When the next minor's schemas are not vendored it says so, in the report.
 */
import { fieldPath, type Finding } from './findings.js';
import type { ManifestDoc } from './manifests.js';
import { crdSchemasOf } from './crd-schemas.js';
import { SchemaValidator } from './schema-validator.js';
import { hasKubernetesSchemas } from './schemas.js';
import type { KubernetesVersion } from '../kubernetes-version.js';

export interface UpgradeCheck {
  env: string;
  from: string;
  to: string;
  /** False when schemas/kubernetes/<next>/ is not vendored: nothing was checked. */
  checked: boolean;
  findings: Finding[];
}

export function nextMinor(kubernetes: KubernetesVersion): { short: string; schemaVersion: string } {
  const minor = kubernetes.minor + 1;
  return { short: `1.${minor}`, schemaVersion: `v1.${minor}.0` };
}

export function checkUpgrade(env: string, kubernetes: KubernetesVersion, docs: ManifestDoc[]): UpgradeCheck {
  const next = nextMinor(kubernetes);
  const result: UpgradeCheck = { env, from: kubernetes.short, to: next.short, checked: false, findings: [] };
  if (!hasKubernetesSchemas(next.schemaVersion)) return result;
  result.checked = true;
  const current = SchemaValidator.for(kubernetes);
  const upcoming = SchemaValidator.for(next);
  // Custom resources keep the environment's own CRDs; only their metadata follows the next minor.
  const currentCrds = crdSchemasOf(docs, kubernetes.schemaVersion, env);
  const upcomingCrds = crdSchemasOf(docs, next.schemaVersion, env);
  for (const doc of docs) {
    // Only what is valid today can break on upgrade; today's errors are the schema gate's.
    if (current.validate(doc.object, currentCrds).length > 0) continue;
    for (const issue of upcoming.validate(doc.object, upcomingCrds)) {
      const removed = issue.path.length === 1 && issue.path[0] === 'apiVersion';
      result.findings.push({
        gate: 'deprecations',
        severity: 'warning',
        file: doc.file,
        line: doc.lineOf(issue.path),
        resource: doc.resource,
        path: fieldPath(issue.path),
        message: removed
          ? `${String(doc.object.kind)} ${String(doc.object.apiVersion)} is not served by Kubernetes ${next.short}: move to its replacement API before upgrading K3s`
          : `invalid on Kubernetes ${next.short}: ${issue.message}`,
      });
    }
  }
  return result;
}
