/**
 * Provider keys: every format of generator/secrets/provider-keys.ts is found
 * by the real secretlint run (the repository rule next to the recommended
 * preset) in whole files, comments included, and its look-alike is not; the
 * `secrets` gate of `npm run validate` refuses a key planted in a comment of
 * environments/staging.yaml; a reference field that holds a key is refused by
 * the same definitions.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { secretValueReason } from '../generator/config/secret-values.js';
import { KEY_FORMATS } from '../generator/secrets/provider-keys.js';
import { PROVIDER_KEYS_RULE_ID } from '../generator/secrets/secretlint-rule.js';
import { scanRepositoryFiles } from '../generator/validate/secrets-scan.js';
import { runValidation } from '../generator/validate/run-validation.js';
import { scan } from '../scripts/secrets-staged.js';
import { KEY_SAMPLES, LOOK_ALIKES } from './support/provider-key-samples.js';
import { REPO_ROOT } from './support/temp-repo.js';

describe('the provider-key rule, run by secretlint', () => {
  it('has a key it refuses and a look-alike it accepts for every format', () => {
    const formats = KEY_FORMATS.map((format) => format.id).sort();
    expect([...new Set(KEY_SAMPLES.map((sample) => sample.format))].sort()).toEqual(formats);
    expect([...new Set(LOOK_ALIKES.map((lookAlike) => lookAlike.format))].sort()).toEqual(formats);
  });

  it.each(KEY_SAMPLES.map((sample) => [sample.format, sample] as const))('finds %s once, at its line and column, without printing it', async (_, sample) => {
    const text = `# staging environment\nname: staging\n${sample.line}\nregion: me-central-1\n`;
    const findings = await scan('environments/staging.yaml', text);
    const format = KEY_FORMATS.find((candidate) => candidate.id === sample.format)!;
    expect(findings).toEqual([
      {
        file: 'environments/staging.yaml',
        line: 3,
        column: sample.line.indexOf(sample.key) + 1,
        rule: PROVIDER_KEYS_RULE_ID,
        message: `found ${format.what} (${format.id})`,
      },
    ]);
    expect(JSON.stringify(findings)).not.toContain(sample.key);
  });

  it.each(LOOK_ALIKES.map((lookAlike) => [lookAlike.format, lookAlike.why, lookAlike] as const))('accepts a %s look-alike: %s', async (_, __, lookAlike) => {
    expect(await scan('environments/staging.yaml', `name: staging\n${lookAlike.line}\n`)).toEqual([]);
  });

  it('finds every key of a file, not only the first', async () => {
    const text = KEY_SAMPLES.map((sample) => sample.line).join('\n');
    const findings = await scan('notes.txt', text);
    expect(findings.map((finding) => [finding.line, finding.message.match(/\(([a-z-]+)\)$/)?.[1]])).toEqual(KEY_SAMPLES.map((sample, index) => [index + 1, sample.format]));
  });
});

describe('secret references judged by the same formats', () => {
  it.each(KEY_SAMPLES.filter((sample) => KEY_FORMATS.find((format) => format.id === sample.format)?.startsWith).map((sample) => [sample.format, sample] as const))(
    'refuses %s as a Secrets Manager name',
    (_, sample) => {
      const format = KEY_FORMATS.find((candidate) => candidate.id === sample.format)!;
      expect(secretValueReason(sample.key)).toBe(`it looks like ${format.what}`);
    },
  );

  it('refuses a truncated key by its start, and accepts names', () => {
    expect(secretValueReason(['sk-', 'ant-', 'api03-abc'].join(''))).toBe('it looks like an Anthropic API key');
    expect(secretValueReason('sk-proj-4fJ9kQ2mX7pL3nR8')).toBe('it looks like an OpenAI API key');
    for (const name of ['providers/anthropic', 'providers/openai', 'tailscale/auth-key', 'providers/xai-grok', 'providers/hf-inference']) expect(secretValueReason(name), name).toBeUndefined();
  });
});

describe('npm run validate -- --gate secrets', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  function copyOfTree(): string {
    dir = mkdtempSync(join(tmpdir(), 'dubai-hub-secrets-gate-'));
    for (const path of ['environments', 'rendered', 'bootstrap']) cpSync(join(REPO_ROOT, path), join(dir, path), { recursive: true });
    return dir;
  }
  const validate = (root: string) => spawnSync('node', [join(REPO_ROOT, 'generator', 'launch.mjs'), 'validate/cli', '--gate', 'secrets', '--root', root], { encoding: 'utf8' });

  it('passes the copied tree, saying how many files it scanned', () => {
    const result = validate(copyOfTree());
    expect(result.status, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^ {2}ok {4}secrets +[1-9]\d* files/m);
  }, 120_000);

  it('refuses an Anthropic key planted in a comment of environments/staging.yaml', () => {
    const root = copyOfTree();
    const sample = KEY_SAMPLES.find((candidate) => candidate.format === 'anthropic-api-key')!;
    const file = join(root, 'environments', 'staging.yaml');
    const lines = readFileSync(file, 'utf8').split('\n');
    lines.splice(3, 0, sample.line);
    writeFileSync(file, lines.join('\n'));

    const result = validate(root);
    expect(result.status).toBe(1);
    expect(result.stdout).toMatch(/^ {2}FAIL {2}secrets +\d+ files, 1 errors/m);
    expect(result.stdout).toContain('environments/staging.yaml:4 · (file) · (resource) · found an Anthropic API key (anthropic-api-key)');
    expect(result.stdout).toContain(`[${PROVIDER_KEYS_RULE_ID}]`);
    expect(result.stdout).not.toContain(sample.key);
  }, 120_000);

  it('is not ok when there was nothing to scan', async () => {
    dir = mkdtempSync(join(tmpdir(), 'dubai-hub-secrets-gate-'));
    mkdirSync(join(dir, 'rendered'));
    expect((await scanRepositoryFiles(dir)).files).toBe(0);
    // The count is what the gate judges: zero files scanned is one error, said once (runValidation's rule for every gate).
    const report = await runValidation({ root: dir, gates: ['secrets'] });
    expect(report.ok).toBe(false);
    expect(report.findings.map((finding) => finding.message)).toEqual(['the secrets gate checked nothing: no files under environments/, rendered/, bootstrap/']);
  });
});
