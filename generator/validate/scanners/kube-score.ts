/**
 * kube-score (pinned in scripts/tools/project-tools.ts, `go install` into the
 * per-user tool cache) over each environment's rendered manifests. A check
 * graded critical or warning, and not skipped, is a finding.
 */
import { isAbsolute, join, relative } from 'node:path';
import { projectToolPath } from '../../../scripts/tools/project-tools.js';
import { describeExit, runCaptured } from '../../run-captured.js';
import type { ManifestDoc } from '../manifests.js';
import type { ScannerFinding } from './allowlist.js';
import { objectIndex } from './objects.js';

/** kube-score's grades: 1 critical, 5 warning, 7 almost ok, 10 ok. */
const WORST_ACCEPTED_GRADE = 7;

interface KubeScoreObject {
  object_name: string;
  type_meta: { kind: string };
  object_meta: { name: string; namespace?: string };
  file_name: string;
  file_row: number;
  checks: { check: { id: string; name: string; comment: string }; grade: number; skipped: boolean; comments: { path: string; summary: string; description: string }[] | null }[];
}

export function kubeScorePath(): string {
  return projectToolPath('kube-score', join('bin', 'kube-score'));
}

async function runKubeScore(files: string[], cwd: string): Promise<KubeScoreObject[]> {
  const run = await runCaptured(kubeScorePath(), ['score', '--output-format', 'json', ...files], { cwd });
  // 0: nothing critical; 1: critical findings (the report is still complete).
  if ((run.code !== 0 && run.code !== 1) || !run.stdout.trim().startsWith('[')) {
    throw new Error(`kube-score ${describeExit(run)} without a report:\n${run.stdout.slice(-2000)}${run.stderr.slice(-2000)}`);
  }
  return JSON.parse(run.stdout) as KubeScoreObject[];
}

export interface KubeScoreRun {
  findings: ScannerFinding[];
  objects: number;
}

/** kube-score over the manifests of `envs` (the documents of those environments, bootstrap folder left out). */
export async function kubeScore(root: string, envs: readonly string[], docs: readonly ManifestDoc[]): Promise<KubeScoreRun> {
  const index = objectIndex(docs);
  const findings: ScannerFinding[] = [];
  let objects = 0;
  for (const env of envs) {
    const files = [...new Set(docs.filter((doc) => doc.env === env && !doc.file.startsWith(`rendered/${env}/bootstrap/`)).map((doc) => doc.file))].sort();
    if (files.length === 0) continue;
    const scored = await runKubeScore(files, root);
    objects += scored.length;
    for (const object of scored) {
      const file = isAbsolute(object.file_name) ? relative(root, object.file_name) : object.file_name;
      const namespace = object.object_meta.namespace;
      const doc = index.find(file, object.type_meta.kind, object.object_meta.name, namespace);
      for (const check of object.checks) {
        if (check.skipped || check.grade >= WORST_ACCEPTED_GRADE) continue;
        findings.push({
          scanner: 'kube-score',
          check: check.check.id,
          title: check.check.name,
          env,
          file,
          line: object.file_row,
          object: doc?.resource ?? `${object.type_meta.kind} ${namespace ? `${namespace}/` : ''}${object.object_meta.name}`,
          detail: (check.comments ?? []).map((comment) => `${comment.path ? `${comment.path}: ` : ''}${comment.summary}`).join('; '),
        });
      }
    }
  }
  return { findings, objects };
}
