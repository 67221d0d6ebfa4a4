/**
 * The GitHub Actions workflows: the real actionlint binary (built from the
 * pinned version into .tools/bin, with shellcheck for run: scripts) passes
 * over them, and they follow the project's rules (actions pinned by SHA,
 * least-privilege permissions, no persisted credentials, concurrency groups).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
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
      '    permissions:',
      '      contents: write',
      '    steps:',
      `      - uses: ${CHECKOUT} # v6.0.2`,
      '',
    ].join('\n');
    expect(checkWorkflow('push.yml', pushing)).toEqual([]);
    expect(formatProblems(checkWorkflow('read.yml', pushing.replace('contents: write', 'contents: read')))).toContain('read.yml:10: job push: actions/checkout leaves the token');
  });
});

describe('what the workflows do', () => {
  it('CI installs with npm ci, type checks, refuses a stale rendered/ and runs npm test', () => {
    const steps: { run?: string }[] = workflow('ci.yml').jobs.test.steps;
    const runs = steps.map((step) => step.run).filter(Boolean);
    expect(runs).toEqual(['npm ci --no-audit --no-fund', 'npm run -s typecheck', 'npm run -s render -- --check', 'npm run -s tools', 'npm test']);
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

  it('the Renovate workflow pushes only rendered/ and the schemas, from a job that runs no project code', () => {
    const jobs = workflow('renovate-render.yml').jobs;
    expect(workflow('renovate-render.yml').on).toEqual({ push: { branches: ['renovate/**'] } });
    expect(jobs.render.permissions).toEqual({ contents: 'read' });
    expect(jobs.push.permissions).toEqual({ contents: 'write' });
    const pushScript: string = jobs.push.steps.map((step: { run?: string }) => step.run ?? '').join('\n');
    expect(pushScript).not.toMatch(/\bnpm\b|\bnpx\b|\bnode\b/);
    expect(pushScript).toContain("grep -Ev '^(rendered/|environments/[^/]+\\.schema\\.json$)'");
  });
});
