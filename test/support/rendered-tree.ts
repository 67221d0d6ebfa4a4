/** Loads the committed rendered/ tree as parsed manifests, for behaviour tests. */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { Manifest } from '../../generator/render-environment.js';
import { REPO_ROOT } from './temp-repo.js';

export interface RenderedManifest {
  env: string;
  file: string;
  manifest: Manifest;
}

export function loadRenderedTree(root = join(REPO_ROOT, 'rendered')): RenderedManifest[] {
  const out: RenderedManifest[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (entry.name !== 'bootstrap') walk(path);
      } else if (entry.name.endsWith('.yaml')) {
        const rel = relative(root, path);
        for (const doc of parseAllDocuments(readFileSync(path, 'utf8'))) {
          out.push({ env: rel.split('/')[0]!, file: rel, manifest: doc.toJS() as Manifest });
        }
      }
    }
  };
  walk(root);
  return out;
}

type PodSpec = { containers: Record<string, any>[]; initContainers?: Record<string, any>[]; [key: string]: any };

/** The pod spec of a workload, or undefined for other kinds. */
export function podSpecOf(manifest: Manifest): PodSpec | undefined {
  const spec = manifest['spec'] as Record<string, any> | undefined;
  switch (manifest.kind) {
    case 'Pod':
      return spec as PodSpec;
    case 'Deployment':
    case 'StatefulSet':
    case 'DaemonSet':
    case 'Job':
      return spec?.['template']?.['spec'] as PodSpec;
    case 'CronJob':
      return spec?.['jobTemplate']?.['spec']?.['template']?.['spec'] as PodSpec;
    default:
      return undefined;
  }
}
