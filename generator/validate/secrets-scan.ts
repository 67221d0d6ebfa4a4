/**
 * The secrets gate: secretlint's recommended rules and the repository's
 * provider-key rule (the same scan as the pre-commit hook's) over whole files
 * committed as configuration or output (environments/, rendered/, bootstrap/),
 * and the rule that no Secret with data is ever rendered (secrets come from
 * AWS Secrets Manager through External Secrets, never from git).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fieldPath, type Finding } from './findings.js';
import type { ManifestDoc } from './manifests.js';
import { scan } from '../../scripts/secrets-staged.js';

export const SCANNED_FOLDERS = ['environments', 'rendered', 'bootstrap'] as const;

function listFiles(root: string, folder: string): string[] {
  const start = join(root, folder);
  if (!existsSync(start)) return [];
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile()) out.push(path);
    }
  };
  walk(start);
  return out.sort();
}

/** Runs secretlint (recommended preset and provider-key rule, the same scan as the pre-commit hook's) over one text; secrets in messages are masked. */
export async function scanText(file: string, content: string): Promise<Finding[]> {
  return (await scan(file, content)).map((found) => ({
    gate: 'secrets',
    severity: 'error',
    file,
    line: found.line,
    resource: '',
    path: '',
    message: `${found.message} (remove it from git, rotate it, and deliver it through Secrets Manager)`,
    rule: found.rule,
  }));
}

export async function scanRepositoryFiles(root: string): Promise<{ files: number; findings: Finding[] }> {
  const files = SCANNED_FOLDERS.flatMap((folder) => listFiles(root, folder));
  const findings = (await Promise.all(files.map((path) => scanText(relative(root, path).split('\\').join('/'), readFileSync(path, 'utf8'))))).flat();
  return { files: files.length, findings };
}

/** No rendered Secret may carry data: secrets reach the cluster only through External Secrets. */
export function renderedSecretData(docs: ManifestDoc[]): Finding[] {
  return docs
    .filter((doc) => doc.object.kind === 'Secret')
    .flatMap((doc) =>
      (['data', 'stringData'] as const)
        .filter((field) => doc.object[field] !== undefined && doc.object[field] !== null)
        .map((field) => ({
          gate: 'secrets' as const,
          severity: 'error' as const,
          file: doc.file,
          line: doc.lineOf([field]),
          resource: doc.resource,
          path: fieldPath([field]),
          message: `a Secret with ${field} is rendered into git; put the value in AWS Secrets Manager and render an ExternalSecret instead`,
          rule: 'no-rendered-secret-data',
        })),
    );
}
