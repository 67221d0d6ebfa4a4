/**
 * The project's rules for GitHub Actions workflows, beyond what actionlint
 * checks:
 *
 * - every action is pinned by a full commit SHA with a `# vX.Y.Z` comment
 *   (tags move; the comment tells people and Renovate which release it is);
 * - a top-level `permissions:` block that grants no write access (jobs that
 *   must write ask for it themselves);
 * - a top-level `concurrency:` group;
 * - `actions/checkout` keeps no credentials (`persist-credentials: false`)
 *   unless its job has `contents: write` and must push;
 * - a job that can push (`contents: write`) or reads a repository secret
 *   (`secrets.<NAME>`, other than GITHUB_TOKEN) runs in a GitHub environment
 *   (`environment:`), so the secret is an environment secret released only to
 *   the deployment branches the environment allows (zizmor: secrets outside
 *   an environment); no secret in the workflow-level `env:`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node, type YAMLMap } from 'yaml';

export interface WorkflowProblem {
  file: string;
  line: number;
  problem: string;
  fix: string;
}

const PINNED_USES = /^[A-Za-z0-9._-]+\/[A-Za-z0-9._/-]+@[0-9a-f]{40}$/;
const VERSION_COMMENT = /^\s*v\d+\.\d+\.\d+\s*$/;
const SECRET_REFERENCE = /\bsecrets\.([A-Za-z_][A-Za-z0-9_]*)/g;

/** The repository secrets a job's text names (GITHUB_TOKEN is the run's own token, not a stored secret). */
function secretsNamed(text: string): string[] {
  return [...new Set([...text.matchAll(SECRET_REFERENCE)].map((match) => match[1]!).filter((name) => name !== 'GITHUB_TOKEN'))].sort();
}

function environmentName(environment: unknown): string | undefined {
  if (isScalar(environment)) return String(environment.value || '') || undefined;
  const name = get(environment, 'name');
  return isScalar(name) ? String(name.value || '') || undefined : undefined;
}

function get(map: unknown, key: string): unknown {
  return isMap(map) ? map.get(key, true) : undefined;
}

function writes(permissions: unknown): string[] {
  if (isScalar(permissions)) return String(permissions.value).startsWith('write') ? ['write-all'] : [];
  if (!isMap(permissions)) return [];
  return permissions.items.filter((pair) => isScalar(pair.value) && pair.value.value === 'write').map((pair) => String((pair.key as { value: unknown }).value));
}

/** Problems of one workflow file's text; `file` only names it in messages. */
export function checkWorkflow(file: string, source: string): WorkflowProblem[] {
  const lines = new LineCounter();
  const doc = parseDocument(source, { lineCounter: lines, keepSourceTokens: true });
  const problems: WorkflowProblem[] = [];
  const lineOf = (node: unknown) => {
    const range = (node as Node | undefined)?.range;
    return range ? lines.linePos(range[0]).line : 1;
  };
  const root = doc.contents;
  if (!isMap(root)) return [{ file, line: 1, problem: 'not a workflow (expected a mapping at the top)', fix: 'see .github/workflows/ci.yml for the layout' }];

  const permissions = get(root, 'permissions');
  if (permissions === undefined) {
    problems.push({ file, line: 1, problem: 'no top-level permissions: block, so every job gets the repository default token permissions', fix: 'add `permissions: {}` or `permissions:\\n  contents: read` at the top and grant more per job' });
  } else if (writes(permissions).length > 0) {
    problems.push({ file, line: lineOf(permissions), problem: `top-level permissions grant write access (${writes(permissions).join(', ')}) to every job`, fix: 'keep the top level read-only and grant write to the one job that needs it' });
  }
  if (get(root, 'concurrency') === undefined) {
    problems.push({ file, line: 1, problem: 'no top-level concurrency: group, so runs for the same branch or pull request pile up', fix: 'add `concurrency:` with a group per ref or pull request (and cancel-in-progress where a newer run supersedes)' });
  }

  const workflowEnv = get(root, 'env');
  const envRange = (workflowEnv as Node | undefined)?.range;
  const envSecrets = secretsNamed(envRange ? source.slice(envRange[0], envRange[1]) : '');
  if (envSecrets.length > 0) {
    problems.push({
      file,
      line: lineOf(workflowEnv),
      problem: `the workflow-level env: hands secret(s) ${envSecrets.join(', ')} to every job, outside any environment`,
      fix: 'move the secret into the env: of the one job (or step) that needs it, and run that job in a GitHub environment',
    });
  }

  const jobs = get(root, 'jobs');
  for (const job of isMap(jobs) ? jobs.items : []) {
    const jobName = String((job.key as { value: unknown }).value);
    const jobPermissions = get(job.value, 'permissions');
    const mayPush = writes(jobPermissions).includes('contents');
    const range = (job.value as Node | undefined)?.range;
    const named = secretsNamed(range ? source.slice(range[0], range[1]) : '');
    if ((mayPush || named.length > 0) && !environmentName(get(job.value, 'environment'))) {
      const what = [...(mayPush ? ['can push (contents: write)'] : []), ...(named.length > 0 ? [`reads secret(s) ${named.join(', ')}`] : [])].join(' and ');
      problems.push({
        file,
        line: lineOf(job.key),
        problem: `job ${jobName} ${what} outside a GitHub environment, so any branch whose push triggers the workflow gets the token`,
        fix: 'add `environment: <name>` to the job, store the secret as that environment\'s secret, and limit the environment\'s deployment branches (Settings > Environments)',
      });
    }
    const steps = get(job.value, 'steps');
    for (const step of isSeq(steps) ? steps.items : []) {
      const uses = get(step, 'uses');
      if (!isScalar(uses)) continue;
      const value = String(uses.value);
      if (value.startsWith('./') || value.startsWith('docker://')) continue;
      if (!PINNED_USES.test(value)) {
        problems.push({ file, line: lineOf(uses), problem: `job ${jobName}: ${value} is not pinned by a full commit SHA`, fix: 'use owner/action@<40-hex commit SHA> # vX.Y.Z' });
      } else if (!uses.comment || !VERSION_COMMENT.test(uses.comment)) {
        problems.push({ file, line: lineOf(uses), problem: `job ${jobName}: ${value} has no "# vX.Y.Z" comment naming its release`, fix: 'append the release tag the SHA belongs to, e.g. `# v6.0.2`' });
      }
      if (value.startsWith('actions/checkout@')) {
        const persist = get(get(step, 'with') as YAMLMap | undefined, 'persist-credentials');
        const keeps = !isScalar(persist) || persist.value !== false;
        if (keeps && !mayPush) {
          problems.push({ file, line: lineOf(uses), problem: `job ${jobName}: actions/checkout leaves the token in .git/config for every later step`, fix: 'add `with: persist-credentials: false` (only a job with contents: write that pushes may keep it)' });
        }
      }
    }
  }
  return problems;
}

/** Problems of every workflow under `dir` (default: .github/workflows of the checkout). */
export function checkWorkflows(root: string, dir = join(root, '.github', 'workflows')): WorkflowProblem[] {
  return readdirSync(dir)
    .filter((name) => /\.ya?ml$/.test(name))
    .sort()
    .flatMap((name) => checkWorkflow(relative(root, join(dir, name)), readFileSync(join(dir, name), 'utf8')));
}

export function formatProblems(problems: WorkflowProblem[]): string {
  return problems.map((problem) => `${problem.file}:${problem.line}: ${problem.problem}\n  fix: ${problem.fix}`).join('\n');
}
