/**
 * The Node version the project documents (package.json `engines`, the CI
 * workflows) is one the AWS SDK v3 supports: the SDK's own version check
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

  it('is the major every workflow sets up', () => {
    const dir = join(REPO_ROOT, '.github', 'workflows');
    const versions = readdirSync(dir).flatMap((file) => [...readFileSync(join(dir, file), 'utf8').matchAll(/node-version: *['"]?([0-9.]+)/g)].map((match) => `${file}: ${match[1]}`));
    expect(versions.length).toBeGreaterThan(0);
    for (const entry of versions) expect(entry.split(': ')[1]!.split('.')[0], entry).toBe(minimum![1]);
  });
});
