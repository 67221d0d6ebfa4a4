/**
 * The git hook: installed by `npm ci` only where there is a git repository,
 * and checking the commit (the index), not the working tree: a commit whose
 * staged rendered/ is not what the staged inputs render to is refused, and an
 * unstaged edit never blocks an unrelated commit.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { KEY_SAMPLES, LOOK_ALIKES } from './support/provider-key-samples.js';
import { REPO_ROOT } from './support/temp-repo.js';

let dir: string;
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function checkout(withGit: boolean): string {
  dir = mkdtempSync(join(tmpdir(), 'dubai-hub-hook-'));
  for (const path of ['package.json', 'tsconfig.json', '.gitignore', '.husky', 'generator', 'environments', 'charts', 'rendered', 'scripts', 'schemas', 'bootstrap', 'vendor']) {
    cpSync(join(REPO_ROOT, path), join(dir, path), { recursive: true });
  }
  symlinkSync(join(REPO_ROOT, 'node_modules'), join(dir, 'node_modules'));
  if (withGit) {
    const git = (...args: string[]) => execFileSync('git', args, { cwd: dir, stdio: 'pipe' });
    git('init', '-q');
    git('config', 'user.email', 'test@example.com');
    git('config', 'user.name', 'test');
    git('add', '-A');
    git('-c', 'core.hooksPath=/dev/null', 'commit', '-qm', 'initial');
  }
  return dir;
}

const env = { ...process.env, CI: '', HUSKY: '' };

/** A checkout with git and the hook installed. */
function hookedCheckout(): string {
  const root = checkout(true);
  expect(spawnSync('node', ['.husky/install.mjs'], { cwd: root, env, encoding: 'utf8' }).status).toBe(0);
  return root;
}

const run = (root: string, ...args: string[]) => execFileSync(args[0]!, args.slice(1), { cwd: root, env, stdio: 'pipe' });
const commit = (root: string, message: string) => spawnSync('git', ['commit', '-qm', message], { cwd: root, env, encoding: 'utf8' });
const renderAll = (root: string) => run(root, 'node', 'generator/launch.mjs', 'cli');
function edit(root: string, path: string, from: string, to: string): void {
  const file = join(root, path);
  const text = readFileSync(file, 'utf8');
  expect(text).toContain(from);
  writeFileSync(file, text.replace(from, to));
}
// git runs hooks with their stdout sent to stderr, so everything the hook prints is in stderr.
const STALE = 'pre-commit: the staged rendered/ is not what the staged inputs render to';

describe('the pre-commit hook', () => {
  it('is not installed, and does not fail, where there is no git repository', () => {
    const root = checkout(false);
    const result = spawnSync('node', ['.husky/install.mjs'], { cwd: root, env, encoding: 'utf8' });
    expect(result.status).toBe(0);
    expect(result.stdout + result.stderr).toBe('');
  });

  it('refuses a commit whose rendered/ is stale, and accepts it once re-rendered', () => {
    const root = hookedCheckout();
    expect(execFileSync('git', ['config', 'core.hooksPath'], { cwd: root, encoding: 'utf8' }).trim()).toBe('.husky/_');

    edit(root, 'environments/dev.yaml', 'name: gpt-4o-mini', 'name: gpt-4o-small');
    run(root, 'git', 'add', '-A');
    const refused = commit(root, 'rename a model');
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toMatch(/dev +out of date: \d+ changed/);
    expect(refused.stderr).toContain(STALE);
    expect(refused.stderr).toContain('run `npm run render`, then `git add rendered/`');

    renderAll(root);
    run(root, 'git', 'add', '-A');
    const accepted = commit(root, 'rename a model');
    expect(accepted.status, accepted.stderr).toBe(0);
    expect(accepted.stderr).toMatch(/dev +up to date/);
  }, 120_000);

  it('refuses a commit that stages the config but not the rendered/ it renders to, even when the working tree is rendered', () => {
    const root = hookedCheckout();
    edit(root, 'environments/dev.yaml', 'name: gpt-4o-mini', 'name: gpt-4o-small');
    renderAll(root);
    run(root, 'git', 'add', 'environments/dev.yaml');
    const refused = commit(root, 'rename a model');
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toMatch(/dev +out of date/);
    expect(refused.stderr).toMatch(/staging +up to date/);
    expect(refused.stderr).toContain(STALE);
    expect(execFileSync('git', ['log', '--format=%s'], { cwd: root, encoding: 'utf8' }).trim()).toBe('initial');

    run(root, 'git', 'add', 'rendered/');
    const accepted = commit(root, 'rename a model');
    expect(accepted.status, accepted.stderr).toBe(0);
    // What landed is consistent: the committed tree renders to the committed rendered/.
    expect(execFileSync('git', ['status', '--porcelain'], { cwd: root, encoding: 'utf8' })).not.toContain('rendered/');
  }, 120_000);

  it('does not let an unstaged edit block an unrelated commit', () => {
    const root = hookedCheckout();
    edit(root, 'environments/dev.yaml', 'name: gpt-4o-mini', 'name: gpt-4o-small'); // not rendered, not staged
    writeFileSync(join(root, 'NOTES.md'), 'Onboarding notes.\n');
    run(root, 'git', 'add', 'NOTES.md');
    const accepted = commit(root, 'add notes');
    expect(accepted.status, accepted.stderr).toBe(0);
    expect(accepted.stderr).toMatch(/dev +up to date/);
    // The working tree is still stale; the hook judged the commit, not the tree.
    expect(spawnSync('node', ['generator/launch.mjs', 'cli', '--check'], { cwd: root, env, encoding: 'utf8' }).status).toBe(1);
  }, 120_000);

  it('renders with the staged generator code when the working tree has unstaged code changes', () => {
    const root = hookedCheckout();
    // An unstaged generator edit that would change every rendered file.
    edit(root, 'generator/render-environment.ts', 'Do not edit: change the inputs', 'Do not hand-edit: change the inputs');
    writeFileSync(join(root, 'NOTES.md'), 'Onboarding notes.\n');
    run(root, 'git', 'add', 'NOTES.md');
    const accepted = commit(root, 'add notes');
    expect(accepted.status, accepted.stderr).toBe(0);
    expect(accepted.stderr).toContain('pre-commit: 1 unstaged change to the generator code (generator/render-environment.ts): rendering with the staged code.');

    // Staging the code change without re-rendering is refused.
    run(root, 'git', 'add', 'generator/render-environment.ts');
    const refused = commit(root, 'reword the header');
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toContain(STALE);
  }, 180_000);

  it('refuses staged files that hold a secret, naming file, line and rule, and accepts the commit once it is gone', () => {
    const root = hookedCheckout();
    // Built at run time so that this test file itself holds no secret.
    const secret = ['wJalrXUt', 'nFEMI/K7', 'MDENG/bP', 'xRfiCYzQ', 'Tr8wPjYb'].join('');
    writeFileSync(join(root, 'notes.env'), `region=me-central-1\nAWS_SECRET_ACCESS_KEY=${secret}\n`);
    execFileSync('git', ['add', 'notes.env'], { cwd: root });
    const refused = spawnSync('git', ['commit', '-qm', 'add notes'], { cwd: root, env, encoding: 'utf8' });
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toContain('notes.env:2:23: found an AWS secret access key (aws-secret-access-key) [dubai-hub/provider-keys]');
    expect(refused.stderr).not.toContain(secret);

    // The staged content is what counts: fixing the working tree alone is not enough.
    writeFileSync(join(root, 'notes.env'), 'region=me-central-1\nAWS_SECRET_ACCESS_KEY=taken from Secrets Manager\n');
    expect(spawnSync('git', ['commit', '-qm', 'add notes'], { cwd: root, env, encoding: 'utf8' }).status).not.toBe(0);
    execFileSync('git', ['add', 'notes.env'], { cwd: root });
    const accepted = spawnSync('git', ['commit', '-qm', 'add notes'], { cwd: root, env, encoding: 'utf8' });
    expect(accepted.status, accepted.stderr).toBe(0);
  }, 60_000);

  it('refuses a provider key in a comment of a staged environment file, and accepts its look-alike', () => {
    const root = hookedCheckout();
    const sample = KEY_SAMPLES.find((candidate) => candidate.format === 'anthropic-api-key')!;
    const file = join(root, 'environments/staging.yaml');
    const original = readFileSync(file, 'utf8');
    const lines = original.split('\n');
    writeFileSync(file, [...lines.slice(0, 3), sample.line, ...lines.slice(3)].join('\n'));
    run(root, 'git', 'add', 'environments/staging.yaml');
    const refused = commit(root, 'note the key');
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toContain(`environments/staging.yaml:4:${sample.line.indexOf(sample.key) + 1}: found an Anthropic API key (anthropic-api-key) [dubai-hub/provider-keys]`);
    expect(refused.stderr).toContain('pre-commit: 1 secret in staged files.');
    expect(refused.stderr).not.toContain(sample.key);

    const lookAlike = LOOK_ALIKES.find((candidate) => candidate.format === 'anthropic-api-key')!;
    writeFileSync(file, [...lines.slice(0, 3), lookAlike.line, ...lines.slice(3)].join('\n'));
    run(root, 'git', 'add', 'environments/staging.yaml');
    const accepted = commit(root, 'note where the key lives');
    expect(accepted.status, accepted.stderr).toBe(0);
    expect(accepted.stderr).toContain('pre-commit: secrets: 1 staged text file scanned, no secret found.');
  }, 120_000);
});
