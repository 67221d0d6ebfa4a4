/**
 * The Node version the project documents (package.json `engines`; `.nvmrc`,
 * the release .ci/run and the workflows set up) is one the AWS SDK v3 supports: the SDK's own version check
 * stays silent on it, and warns on the Node 20 the project used before.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { emitWarningIfUnsupportedVersion, state } from '@aws-sdk/core/client';
import { REPO_ROOT } from './support/temp-repo.js';

const engines = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { engines: { node: string } }).engines.node;
const minimum = /^>=(\d+)\.(\d+)(?:\.(\d+))?$/.exec(engines);

/** What the SDK's check says for a Node version, with its once-per-process latch reset. */
function sdkWarnings(version: string): string[] {
  const warnings: string[] = [];
  const spy = vi.spyOn(process, 'emitWarning').mockImplementation((warning: string | Error) => void warnings.push(String(warning)));
  state.warningEmitted = false;
  try {
    emitWarningIfUnsupportedVersion(version);
  } finally {
    spy.mockRestore();
    state.warningEmitted = false;
  }
  return warnings;
}

afterEach(() => vi.restoreAllMocks());

describe('the documented Node version', () => {
  it('is a plain minimum in package.json engines', () => {
    expect(minimum, `engines.node is "${engines}"`).not.toBeNull();
  });

  it('gets no warning from the AWS SDK v3', () => {
    expect(sdkWarnings(`v${minimum![1]}.${minimum![2]}.${minimum![3] ?? 0}`)).toEqual([]);
  });

  it('while Node 20 does (so the check can fail)', () => {
    expect(sdkWarnings('v20.20.2').join('\n')).toMatch(/NodeVersionSupportWarning/);
  });

  it('is met by the release in .nvmrc, which .ci/run and every workflow set up', () => {
    const pinned = readFileSync(join(REPO_ROOT, '.nvmrc'), 'utf8').trim();
    const [major, minor] = pinned.split('.').map(Number) as [number, number];
    expect(major > Number(minimum![1]) || (major === Number(minimum![1]) && minor >= Number(minimum![2])), `.nvmrc ${pinned} is below engines ${engines}`).toBe(true);
    expect(sdkWarnings(`v${pinned}`)).toEqual([]);
    expect(readFileSync(join(REPO_ROOT, '.ci', 'run'), 'utf8')).toMatch(/^stage "[^"]*" use_documented_node$/m);
    const dir = join(REPO_ROOT, '.github', 'workflows');
    const setups = readdirSync(dir).flatMap((file) =>
      [...readFileSync(join(dir, file), 'utf8').matchAll(/uses: actions\/setup-node@[^\n]*\n\s+with:\n((?:\s{10,}.*\n)+)/g)].map((match) => ({ file, with: match[1]! })),
    );
    expect(setups.length).toBeGreaterThan(0);
    for (const setup of setups) expect(setup.with, setup.file).toMatch(/node-version-file: \.nvmrc/);
  });
});
