/**
 * npm run lint:bootstrap
 *
 * Lints every rendered bootstrap stack: cfn-lint must find nothing, checkov
 * must pass (each skip is declared in the resource's Metadata with its
 * reason, and listed here), and the node's user data must be shellcheck
 * clean. The tools come from .tools/venv (npm run tools:install).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { BOOTSTRAP_FOLDER, REPLICA_TEMPLATE_FILE, TEMPLATE_FILE } from '../names.js';
import { findTool, REPO_ROOT, ToolMissing } from './python-tools.js';
import { shellcheckPath } from '../../scripts/tools/project-tools.js';
import { userDataScript } from '../template/user-data.js';

export { findTool, REPO_ROOT, ToolMissing };

function renderedFiles(root: string, name: string): string[] {
  const rendered = join(root, 'rendered');
  return readdirSync(rendered, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && !entry.name.startsWith('.'))
    .map((entry) => join(rendered, entry.name, BOOTSTRAP_FOLDER, name))
    .filter((file) => existsSync(file))
    .sort();
}

/** Every environment's main stack template. */
export function renderedTemplates(root = REPO_ROOT): string[] {
  return renderedFiles(root, TEMPLATE_FILE);
}

/** The replica stack templates (environments with backups.replication); they carry no user data. */
export function renderedReplicaTemplates(root = REPO_ROOT): string[] {
  return renderedFiles(root, REPLICA_TEMPLATE_FILE);
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv = {}) {
  const result = spawnSync(command, args, { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 180_000, maxBuffer: 64 * 1024 * 1024 });
  if (result.error) throw result.error;
  return { status: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

export interface LintResult {
  ok: boolean;
  report: string;
}

export function cfnLint(templates: string[]): LintResult {
  const { status, stdout, stderr } = run(findTool('cfn-lint'), ['--format', 'parseable', '--', ...templates]);
  const report = `${stdout}${stderr}`.trim();
  return { ok: status === 0 && report === '', report };
}

export interface CheckovSkip {
  checkId: string;
  resource: string;
  file: string;
  reason: string;
}

export interface CheckovResult extends LintResult {
  passed: number;
  failed: { checkId: string; resource: string; file: string; name: string }[];
  skipped: CheckovSkip[];
}

interface CheckovReport {
  results?: {
    passed_checks?: unknown[];
    failed_checks?: { check_id: string; resource: string; file_path: string; check_name: string }[];
    skipped_checks?: { check_id: string; resource: string; file_path: string; check_result?: { suppress_comment?: string } }[];
  };
  summary?: { passed: number; failed: number; skipped: number };
}

export function checkov(templates: string[]): CheckovResult {
  const args = ['--framework', 'cloudformation', '--output', 'json', '--compact', '--skip-download', ...templates.flatMap((file) => ['--file', file])];
  // Offline: no platform calls, no version check.
  const { stdout, stderr } = run(findTool('checkov'), args, { BC_SKIP_MAPPING: 'TRUE', CHECKOV_RUN_SCA_PACKAGE_SCAN_V2: 'false', ENABLE_DEFINITION_KEY: 'false' });
  const start = stdout.search(/[[{]/);
  if (start < 0) return { ok: false, report: `checkov printed no report:\n${stdout}\n${stderr}`, passed: 0, failed: [], skipped: [] };
  const parsed = JSON.parse(stdout.slice(start)) as CheckovReport | CheckovReport[];
  const reports = Array.isArray(parsed) ? parsed : [parsed];
  const passed = reports.reduce((sum, report) => sum + (report.results?.passed_checks?.length ?? 0), 0);
  const failed = reports.flatMap((report) => report.results?.failed_checks ?? []).map((check) => ({ checkId: check.check_id, resource: check.resource, file: check.file_path, name: check.check_name }));
  const skipped = reports
    .flatMap((report) => report.results?.skipped_checks ?? [])
    .map((check) => ({ checkId: check.check_id, resource: check.resource, file: check.file_path, reason: check.check_result?.suppress_comment ?? '' }));
  const lines = [
    `checkov: ${passed} passed, ${failed.length} failed, ${skipped.length} skipped`,
    ...failed.map((check) => `  FAILED  ${check.checkId} ${check.resource} (${check.file}): ${check.name}`),
    ...skipped.map((check) => `  skipped ${check.checkId} ${check.resource} (${check.file}): ${check.reason || '(no reason given)'}`),
  ];
  return { ok: failed.length === 0 && passed > 0 && skipped.every((check) => check.reason.trim() !== ''), report: lines.join('\n'), passed, failed, skipped };
}

/** The user data of every node of a rendered template (each server instance and the agents' launch template), one script each. */
export function userDataOf(templateFile: string, text: string): { name: string; text: string }[] {
  type Node = { Type: string; Properties?: { UserData?: unknown; LaunchTemplateData?: { UserData?: unknown } } };
  const template = parse(text) as { Resources?: Record<string, Node> };
  const scripts = Object.entries(template.Resources ?? {}).flatMap(([id, resource]) => {
    const value = resource.Type === 'AWS::EC2::Instance' ? resource.Properties?.UserData : resource.Type === 'AWS::EC2::LaunchTemplate' ? resource.Properties?.LaunchTemplateData?.UserData : undefined;
    return value === undefined ? [] : [{ name: `${templateFile}#${id}`, text: userDataScript(value) }];
  });
  if (scripts.length === 0) throw new Error(`${templateFile}: no EC2 instance or launch template carries user data`);
  return scripts;
}

export function shellcheck(scripts: { name: string; text: string }[]): LintResult {
  const dir = mkdtempSync(join(tmpdir(), 'user-data-'));
  try {
    const files = scripts.map((script, index) => {
      const file = join(dir, `${index}-${script.name.replace(/[^A-Za-z0-9.-]+/g, '_')}.sh`);
      writeFileSync(file, script.text);
      return file;
    });
    const { status, stdout, stderr } = run(shellcheckPath(), ['--shell=bash', '--severity=style', '--format=gcc', ...files]);
    const report = `${stdout}${stderr}`.trim();
    return { ok: status === 0 && report === '', report };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function main(): number {
  const templates = renderedTemplates();
  if (templates.length === 0) {
    process.stderr.write('No rendered/<env>/bootstrap/template.yaml found: run npm run render first.\n');
    return 1;
  }
  let ok = true;
  try {
    const stacks = [...templates, ...renderedReplicaTemplates()];
    const lint = cfnLint(stacks);
    process.stdout.write(`cfn-lint: ${lint.ok ? `clean (${stacks.length} templates)` : `problems\n${lint.report}`}\n`);
    ok &&= lint.ok;
    const scan = checkov(stacks);
    process.stdout.write(`${scan.report}\n`);
    ok &&= scan.ok;
    const check = shellcheck(templates.flatMap((file) => userDataOf(file, readFileSync(file, 'utf8'))));
    process.stdout.write(`shellcheck (user data): ${check.ok ? 'clean' : `problems\n${check.report}`}\n`);
    ok &&= check.ok;
  } catch (error) {
    if (error instanceof ToolMissing) {
      process.stderr.write(`${error.message}\n`);
      return 1;
    }
    throw error;
  }
  return ok ? 0 : 1;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = main();
}
