/**
 * The K3s install script the node runs is pinned to a commit and checked
 * against its sha256 before it runs: the rendered user data's install_k3s,
 * run in bash with curl and sh replaced by stand-ins, refuses a script that
 * does not match and runs one that does.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { K3S_INSTALLER, renderUserData } from '../bootstrap/template/user-data.js';
import { environment } from './support/environments.js';

const dir = mkdtempSync(join(tmpdir(), 'k3s-installer-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** install_k3s from the rendered script, with `curl` writing `served` and `sh` recording that it ran. */
function runInstall(served: string, pinnedSha: string = K3S_INSTALLER.sha256) {
  const script = renderUserData(environment('dev').config)
    .replace(/^exec > >\(tee .*$/m, '')
    .replace(/^main "\$@"$/m, '')
    .replaceAll(K3S_INSTALLER.sha256, pinnedSha);
  const servedFile = join(dir, 'served.sh');
  writeFileSync(servedFile, served);
  const harness = [
    script.replace(/^LOG_FILE=.*$/m, `LOG_FILE=${join(dir, 'log')}`),
    `curl() { local out=""; while (($#)); do if [[ $1 == -o ]]; then out=$2; shift; fi; printf '%s\\n' "$1" >>${join(dir, 'urls')}; shift; done; cp ${servedFile} "$out"; }`,
    `sh() { echo "ran installer with INSTALL_K3S_VERSION=$INSTALL_K3S_VERSION"; }`,
    'retry() { shift; "$@"; }',
    'install_k3s',
  ].join('\n');
  return spawnSync('bash', ['-c', harness], { encoding: 'utf8', timeout: 30_000 });
}

describe('the K3s installer on the node', () => {
  it('is fetched from a fixed commit of k3s-io/k3s, not from the K3s version being installed', () => {
    expect(K3S_INSTALLER.url).toMatch(/^https:\/\/raw\.githubusercontent\.com\/k3s-io\/k3s\/[0-9a-f]{40}\/install\.sh$/);
    expect(K3S_INSTALLER.sha256).toMatch(/^[0-9a-f]{64}$/);
    const script = renderUserData(environment('dev').config);
    expect(script).toContain(`\nK3S_INSTALLER_URL='${K3S_INSTALLER.url}'`);
    expect(script).toContain(`\nK3S_INSTALLER_SHA256='${K3S_INSTALLER.sha256}'`);
  });

  it('refuses to run an install script whose sha256 differs from the pin', () => {
    const result = runInstall('#!/bin/sh\necho tampered\n');
    expect(result.status).not.toBe(0);
    expect(result.stdout).toMatch(/does not match its pinned sha256/);
    expect(result.stdout).not.toMatch(/ran installer/);
  });

  it('runs the script that matches the pin, with the configured K3s version', () => {
    const served = '#!/bin/sh\necho genuine\n';
    const result = runInstall(served, createHash('sha256').update(served).digest('hex'));
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout).toContain(`ran installer with INSTALL_K3S_VERSION=${environment('dev').config.k3s.version}`);
  });
});
