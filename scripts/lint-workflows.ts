/**
 * npm run lint:workflows — actionlint (with shellcheck for run: scripts) and
 * the project's workflow rules over .github/workflows/.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { actionlintPath, PROJECT_ROOT, shellcheckPath, ToolInstallError } from './tools/project-tools.js';
import { checkWorkflows, formatProblems } from './workflow-rules.js';

export interface LintResult {
  ok: boolean;
  output: string;
}

/** Runs the real actionlint binary over the given workflow files (default: all of .github/workflows). */
export function actionlint(root: string, files: string[] = []): LintResult {
  const result = spawnSync(actionlintPath(), ['-no-color', '-shellcheck', shellcheckPath(), '-pyflakes', '', ...files], { cwd: root, encoding: 'utf8' });
  if (result.error) throw new ToolInstallError(`cannot run actionlint: ${result.error.message}`);
  return { ok: result.status === 0, output: `${result.stdout}${result.stderr}` };
}

if (process.argv[1]?.endsWith('lint-workflows.ts')) {
  try {
    const lint = actionlint(PROJECT_ROOT);
    const problems = checkWorkflows(PROJECT_ROOT);
    if (lint.output) process.stdout.write(lint.output);
    if (problems.length > 0) console.log(formatProblems(problems));
    if (lint.ok && problems.length === 0) console.log(`workflows: actionlint and the workflow rules pass over ${join('.github', 'workflows')}`);
    else process.exitCode = 1;
  } catch (error) {
    console.error(`lint:workflows: ${(error as Error).message}`);
    process.exitCode = 1;
  }
}
