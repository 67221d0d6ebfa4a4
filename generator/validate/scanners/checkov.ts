/**
 * checkov (pinned in bootstrap/tools/requirements.txt, from the per-user tool
 * cache) over the rendered Kubernetes manifests of every environment (one
 * process for all of rendered/, the bootstrap folder left out) and over the
 * environments' CloudFormation stacks (rendered/<env>/bootstrap/template.yaml).
 * Offline: no platform calls, no version check, no downloads.
 *
 * The stacks' own checkov skips stay where the stack declares them, in each
 * resource's Metadata with its reason (bootstrap/template/cfn.ts; checkov
 * reports them as skipped, never as failed); a failed stack check is a
 * finding like any other.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { projectToolPath } from '../../../scripts/tools/project-tools.js';
import { describeExit, runCaptured } from '../../run-captured.js';
import type { ManifestDoc } from '../manifests.js';
import type { ScannerFinding } from './allowlist.js';
import { objectIndex } from './objects.js';

interface CheckovCheck {
  check_id: string;
  check_name: string;
  resource: string;
  file_path: string;
  file_line_range?: [number, number];
  guideline?: string | null;
}

interface CheckovReport {
  check_type?: string;
  results?: { failed_checks?: CheckovCheck[]; passed_checks?: unknown[] };
  summary?: { passed: number; failed: number; resource_count?: number; parsing_errors?: number };
}

/** One checkov run covers every environment; on a busy 2-core machine it can take minutes. */
const CHECKOV_TIMEOUT_MS = 20 * 60_000;

export function checkovPath(): string {
  return projectToolPath('python-tools', join('venv', 'bin', 'checkov'));
}

/** Runs checkov; resolves with its parsed JSON report(s). Exit 1 means "failed checks", anything else without JSON is an error. */
async function runCheckov(args: string[], cwd: string): Promise<CheckovReport[]> {
  const run = await runCaptured(checkovPath(), [...args, '--output', 'json', '--compact', '--quiet', '--skip-download'], {
    cwd,
    env: { ...process.env, BC_SKIP_MAPPING: 'TRUE', CHECKOV_RUN_SCA_PACKAGE_SCAN_V2: 'false', ENABLE_DEFINITION_KEY: 'false', PYTHONWARNINGS: 'ignore' },
    timeoutMs: CHECKOV_TIMEOUT_MS,
  });
  const start = run.stdout.search(/[[{]/);
  if ((run.code !== 0 && run.code !== 1) || start < 0) {
    throw new Error(`checkov ${args.join(' ')} ${describeExit(run)} without a report:\n${run.stdout.slice(-2000)}${run.stderr.slice(-2000)}`);
  }
  try {
    const parsed = JSON.parse(run.stdout.slice(start)) as CheckovReport | CheckovReport[];
    return Array.isArray(parsed) ? parsed : [parsed];
  } catch (error) {
    throw new Error(`checkov printed a report that is not JSON (${(error as Error).message}):\n${run.stdout.slice(0, 2000)}`);
  }
}

export interface CheckovRun {
  findings: ScannerFinding[];
  /** Resources checkov looked at. */
  resources: number;
}

/** checkov's `Kind.namespace.name` → the rendered document (names may contain dots). */
function k8sFinding(check: CheckovCheck, file: string, env: string, index: ReturnType<typeof objectIndex>): ScannerFinding {
  const [kind = '', namespace = '', ...rest] = check.resource.split('.');
  const name = rest.join('.');
  const doc = index.find(file, kind, name, namespace) ?? index.find(file, kind, name);
  return {
    scanner: 'checkov',
    check: check.check_id,
    title: check.check_name,
    env,
    file,
    ...(check.file_line_range ? { line: check.file_line_range[0] } : {}),
    object: doc?.resource ?? `${kind} ${namespace}/${name}`,
    detail: '',
  };
}

/** checkov over rendered/ (Kubernetes), only the findings of `envs`. */
export async function checkovKubernetes(root: string, envs: readonly string[], docs: readonly ManifestDoc[]): Promise<CheckovRun> {
  const reports = await runCheckov(['--framework', 'kubernetes', '--directory', 'rendered', '--skip-path', '/bootstrap/'], root);
  const index = objectIndex(docs);
  const findings: ScannerFinding[] = [];
  let resources = 0;
  for (const report of reports) {
    resources += report.summary?.resource_count ?? 0;
    for (const check of report.results?.failed_checks ?? []) {
      const relativePath = check.file_path.replace(/^\/+/, '');
      const file = relativePath.startsWith('rendered/') ? relativePath : `rendered/${relativePath}`;
      const env = file.split('/')[1] ?? '';
      if (envs.includes(env)) findings.push(k8sFinding(check, file, env, index));
    }
  }
  return { findings, resources };
}

/** checkov over each environment's CloudFormation stacks. */
export async function checkovCloudFormation(root: string, envs: readonly string[]): Promise<CheckovRun> {
  // The main stack and, with backups.replication, the replica stack (replica.yaml).
  const templates = envs.flatMap((env) => [`rendered/${env}/bootstrap/template.yaml`, `rendered/${env}/bootstrap/replica.yaml`]).filter((file) => existsSync(join(root, file)));
  if (templates.length === 0) return { findings: [], resources: 0 };
  const reports = await runCheckov(['--framework', 'cloudformation', ...templates.flatMap((file) => ['--file', file])], root);
  const findings: ScannerFinding[] = [];
  let resources = 0;
  for (const report of reports) {
    resources += report.summary?.resource_count ?? 0;
    for (const check of report.results?.failed_checks ?? []) {
      const file = check.file_path.replace(/^\/+/, '');
      const [type = '', ...id] = check.resource.split('.');
      findings.push({
        scanner: 'checkov',
        check: check.check_id,
        title: check.check_name,
        env: file.split('/')[1] ?? '',
        file,
        ...(check.file_line_range ? { line: check.file_line_range[0] } : {}),
        object: `${type} ${id.join('.')}`,
        detail: '',
      });
    }
  }
  return { findings, resources };
}
