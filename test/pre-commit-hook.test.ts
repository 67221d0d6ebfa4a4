/**
 * The git hook: installed by `npm ci` only where there is a git repository,
 * and refusing a commit whose rendered/ is stale.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { REPO_ROOT } from './support/temp-repo.js';

let dir: string;
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function checkout(withGit: boolean): string {
  dir = mkdtempSync(join(tmpdir(), 'dubai-hub-hook-'));
  for (const path of ['package.json', 'tsconfig.json', '.gitignore', '.husky', 'generator', 'environments', 'rendered', 'scripts', 'schemas', 'bootstrap']) {
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

describe('the pre-commit hook', () => {
  it('is not installed, and does not fail, where there is no git repository', () => {
    const root = checkout(false);
    const result = spawnSync('node', ['.husky/install.mjs'], { cwd: root, env, encoding: 'utf8' });
    expect(result.status).toBe(0);
    expect(result.stdout + result.stderr).toBe('');
  });

  it('refuses a commit whose rendered/ is stale, and accepts it once re-rendered', () => {
    const root = checkout(true);
    expect(spawnSync('node', ['.husky/install.mjs'], { cwd: root, env, encoding: 'utf8' }).status).toBe(0);
    expect(execFileSync('git', ['config', 'core.hooksPath'], { cwd: root, encoding: 'utf8' }).trim()).toBe('.husky/_');

    const config = join(root, 'environments/dev.yaml');
    writeFileSync(config, readFileSync(config, 'utf8').replace('name: gpt-4o-mini', 'name: gpt-4o-small'));
    execFileSync('git', ['add', '-A'], { cwd: root });
    const refused = spawnSync('git', ['commit', '-qm', 'rename a model'], { cwd: root, env, encoding: 'utf8' });
    expect(refused.status).not.toBe(0);
    expect(refused.stdout + refused.stderr).toContain("pre-commit: rendered/ is stale. Run 'npm run render'");

    execFileSync('npx', ['tsx', 'generator/cli.ts'], { cwd: root, env });
    execFileSync('git', ['add', '-A'], { cwd: root });
    const accepted = spawnSync('git', ['commit', '-qm', 'rename a model'], { cwd: root, env, encoding: 'utf8' });
    expect(accepted.status, accepted.stderr).toBe(0);
  }, 60_000);

  it('refuses staged files that hold a secret, naming file, line and rule, and accepts the commit once it is gone', () => {
    const root = checkout(true);
    expect(spawnSync('node', ['.husky/install.mjs'], { cwd: root, env, encoding: 'utf8' }).status).toBe(0);
    // Built at run time so that this test file itself holds no secret.
    const secret = ['wJalrXUt', 'nFEMI/K7', 'MDENG/bP', 'xRfiCYzQ', 'Tr8wPjYb'].join('');
    writeFileSync(join(root, 'notes.env'), `region=me-central-1\nAWS_SECRET_ACCESS_KEY=${secret}\n`);
    execFileSync('git', ['add', 'notes.env'], { cwd: root });
    const refused = spawnSync('git', ['commit', '-qm', 'add notes'], { cwd: root, env, encoding: 'utf8' });
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toContain('notes.env:2:1: found AWS Secret Access Key');
    expect(refused.stderr).toContain('[@secretlint/secretlint-rule-aws]');
    expect(refused.stderr).not.toContain(secret);

    // The staged content is what counts: fixing the working tree alone is not enough.
    writeFileSync(join(root, 'notes.env'), 'region=me-central-1\nAWS_SECRET_ACCESS_KEY=taken from Secrets Manager\n');
    expect(spawnSync('git', ['commit', '-qm', 'add notes'], { cwd: root, env, encoding: 'utf8' }).status).not.toBe(0);
    execFileSync('git', ['add', 'notes.env'], { cwd: root });
    const accepted = spawnSync('git', ['commit', '-qm', 'add notes'], { cwd: root, env, encoding: 'utf8' });
    expect(accepted.status, accepted.stderr).toBe(0);
  }, 60_000);
});
