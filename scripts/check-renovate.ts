/**
 * npm run lint:renovate — Renovate's own validator (--strict) over renovate.json,
 * then the coverage check: every pinned version in environments/ and the
 * schema defaults is found by a custom manager.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkRenovateCoverage, formatCoverageProblems } from './renovate-coverage.js';
import { PROJECT_ROOT, renovateValidator } from './tools/project-tools.js';

try {
  const validator = renovateValidator();
  const result = spawnSync(validator.node, [validator.script, '--strict'], { cwd: PROJECT_ROOT, stdio: 'inherit', env: { ...process.env, RENOVATE_X_IGNORE_RE2: 'true' } });
  const coverage = checkRenovateCoverage(PROJECT_ROOT, JSON.parse(readFileSync(join(PROJECT_ROOT, 'renovate.json'), 'utf8')));
  if (coverage.problems.length > 0) console.log(formatCoverageProblems(coverage.problems));
  else console.log(`renovate.json: custom managers find all ${coverage.pins} pinned versions in environments/ and the schema defaults`);
  if (result.status !== 0 || coverage.problems.length > 0) process.exitCode = 1;
} catch (error) {
  console.error(`lint:renovate: ${(error as Error).message}`);
  process.exitCode = 1;
}
