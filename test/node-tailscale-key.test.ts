/**
 * The node trusts Tailscale's apt repository only through a key file that
 * holds exactly the pinned key. The functions run here are cut out of the
 * rendered user data by name (`tailscale_key() {` … `}`,
 * `tailscale_source() (` … `)`), never copied, and run with the real gpg
 * against keys generated for the test: a key with another fingerprint and a
 * file with two keys are refused (and nothing is installed), the generated
 * key is accepted once its fingerprint is substituted for the pinned one.
 *
 * gpg is Debian's gnupg; .ci/run installs it when it is missing.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderUserData, TAILSCALE_REPOSITORY } from '../bootstrap/template/user-data.js';
import { environment } from './support/environments.js';

const GPG_MISSING = spawnSync('gpg', ['--version'], { encoding: 'utf8' }).status !== 0;
if (GPG_MISSING) console.warn('node-tailscale-key: SKIPPED: gpg is not on PATH (install Debian\'s gnupg; .ci/run does)');

const dir = mkdtempSync(join(tmpdir(), 'tailscale-key-'));
const home = join(dir, 'gnupg');
const script = renderUserData(environment('dev').config);

/** A shell function of the rendered user data: its one line, or from its first line to the line that closes it. */
function cut(name: string): string {
  const found = new RegExp(`^${name}\\(\\) \\{ .*; \\}$`, 'm').exec(script) ?? new RegExp(`^${name}\\(\\) [({]\\n[\\s\\S]*?\\n[)}]$`, 'm').exec(script);
  if (!found) throw new Error(`the rendered user data has no function ${name}`);
  return found[0];
}
const variable = (name: string) => new RegExp(`^(?:readonly )?${name}=.*$`, 'm').exec(script)?.[0].replace(/ \\$/, '') ?? '';

const gpg = (...args: string[]) => {
  const result = spawnSync('gpg', ['--homedir', home, '--batch', ...args], { encoding: 'utf8', timeout: 120_000 });
  if (result.status !== 0) throw new Error(`gpg ${args.join(' ')}: ${result.stderr}`);
  return result.stdout;
};

/** Generates a signing key for `uid` and returns its fingerprint; `file` gets it as a binary export (like *.noarmor.gpg). */
function key(uid: string, file: string): string {
  gpg('--passphrase', '', '--pinentry-mode', 'loopback', '--quick-gen-key', uid, 'ed25519', 'sign', 'never');
  writeFileSync(file, spawnSync('gpg', ['--homedir', home, '--batch', '--export', uid], { timeout: 60_000 }).stdout);
  return /^fpr:+([0-9A-F]{40}):/m.exec(gpg('--with-colons', '--fingerprint', uid))![1]!;
}

let ours = '';
let other = '';
const files = { ours: join(dir, 'ours.gpg'), other: join(dir, 'other.gpg'), both: join(dir, 'both.gpg'), junk: join(dir, 'junk.gpg') };

beforeAll(() => {
  if (GPG_MISSING) return;
  mkdirSync(home, { mode: 0o700 });
  ours = key('Test Repository <repo@example.test>', files.ours);
  other = key('Someone Else <other@example.test>', files.other);
  writeFileSync(files.both, Buffer.concat([readFileSync(files.ours), readFileSync(files.other)]));
  writeFileSync(files.junk, 'not a key\n');
}, 300_000);

afterAll(() => {
  // The agent key generation started, stopped by its own home (gpgconf knows its process).
  if (!GPG_MISSING) spawnSync('gpgconf', ['--homedir', home, '--kill', 'gpg-agent'], { timeout: 60_000 });
  rmSync(dir, { recursive: true, force: true });
});

/** Groups of four, as TAILSCALE_REPOSITORY.keyFingerprint is written. */
const grouped = (fingerprint: string) => fingerprint.match(/.{4}/g)!.join(' ');

/** tailscale_key FILE as the node runs it, with `pinned` as TAILSCALE_KEY_FINGERPRINT. */
function check(file: string, pinned: string = TAILSCALE_REPOSITORY.keyFingerprint) {
  const harness = ['set -euo pipefail', cut('log'), `TAILSCALE_KEY_FINGERPRINT='${pinned}'`, cut('tailscale_key'), `tailscale_key '${file}'`, 'echo accepted'].join('\n');
  return spawnSync('bash', ['-c', harness], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, HOME: dir } });
}

describe.skipIf(GPG_MISSING)('the pinned Tailscale repository key, checked with the real gpg', () => {
  it('cuts the check out of the rendered user data, with the pinned fingerprint as a variable', () => {
    expect(cut('tailscale_key')).toMatch(/gpg --homedir "\$h" --show-keys --with-colons "\$1"/);
    expect(variable('TAILSCALE_KEY_FINGERPRINT')).toBe(`TAILSCALE_KEY_FINGERPRINT='${TAILSCALE_REPOSITORY.keyFingerprint}'`);
  });

  it("refuses the real Tailscale pin for a key that is not Tailscale's, naming the expected and the found fingerprints", () => {
    const result = check(files.ours);
    expect(result.status).not.toBe(0);
    expect(result.stdout).not.toContain('accepted');
    expect(result.stdout).toContain(`expected one key, ${TAILSCALE_REPOSITORY.keyFingerprint.replaceAll(' ', '')}; found: ${ours}`);
  });

  it('refuses a key with another fingerprint', () => {
    const result = check(files.other, grouped(ours));
    expect(result.status).not.toBe(0);
    expect(result.stdout).toContain(`expected one key, ${ours}; found: ${other}`);
  });

  it('refuses a file with two keys, even when one of them is the pinned one', () => {
    const result = check(files.both, grouped(ours));
    expect(result.status).not.toBe(0);
    expect(result.stdout).toContain(`expected one key, ${ours}; found: ${ours} ${other}`);
  });

  it('refuses a file that holds no key', () => {
    const result = check(files.junk, grouped(ours));
    expect(result.status).not.toBe(0);
    expect(result.stdout).toContain('found: none');
  });

  it('accepts the key whose fingerprint is the pinned one', () => {
    const result = check(files.ours, grouped(ours));
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout.trim()).toBe('accepted');
  });

  /**
   * tailscale_source end to end: curl serves `served`, /etc/os-release says
   * Ubuntu noble, the keyring and the apt source land in the scratch folder.
   */
  function source(served: string, pinned: string) {
    const root = mkdtempSync(join(dir, 'node-'));
    writeFileSync(join(root, 'os-release'), 'NAME="Ubuntu"\nID=ubuntu\nVERSION_ID="24.04"\nVERSION_CODENAME=noble\n');
    const fn = cut('tailscale_source').replaceAll('/etc/os-release', join(root, 'os-release')).replaceAll('/etc/apt/sources.list.d/', `${root}/`);
    const harness = [
      'set -euo pipefail',
      cut('log'),
      `curl() { local out=""; while (($#)); do if [[ $1 == -o ]]; then out=$2; shift; fi; [[ $1 == https://* ]] && printf '%s\\n' "$1" >>'${root}/urls'; shift; done; cp '${served}' "$out"; }`,
      'retry() { shift; "$@"; }',
      variable('TAILSCALE_REPO'),
      `TAILSCALE_KEY_FINGERPRINT='${pinned}'`,
      `TAILSCALE_KEYRING='${root}/tailscale-archive-keyring.gpg'`,
      cut('tailscale_key'),
      fn,
      'tailscale_source',
    ].join('\n');
    const result = spawnSync('bash', ['-c', harness], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, HOME: dir } });
    const read = (name: string) => (existsSync(join(root, name)) ? readFileSync(join(root, name), 'utf8') : undefined);
    return { result, root, read };
  }

  it('installs the checked key as the keyring of exactly the Tailscale source of this release', () => {
    const { result, root, read } = source(files.ours, grouped(ours));
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(read('urls')).toBe(`${TAILSCALE_REPOSITORY.url}/ubuntu/noble.noarmor.gpg\n`);
    expect(read('tailscale.list')).toBe(`deb [signed-by=${root}/tailscale-archive-keyring.gpg] ${TAILSCALE_REPOSITORY.url}/ubuntu noble main\n`);
    expect(readFileSync(join(root, 'tailscale-archive-keyring.gpg'))).toEqual(readFileSync(files.ours));
  });

  it('installs neither keyring nor source when the served key is not the pinned one', () => {
    const { result, read } = source(files.both, grouped(ours));
    expect(result.status).not.toBe(0);
    expect(result.stdout).toContain("refusing Tailscale's key");
    expect(read('tailscale.list')).toBeUndefined();
    expect(read('tailscale-archive-keyring.gpg')).toBeUndefined();
  });
});
