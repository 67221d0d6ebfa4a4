/**
 * rotate valkey-password's first Valkey step for real: the command the verb
 * runs through `kubectl exec` adds the new password to a running server
 * (Debian's redis-server 7, the protocol Valkey 8 speaks) so the old one and
 * the new one are both accepted until Valkey restarts. kubectl is a small
 * script that checks the arguments it was given and runs the command after
 * `--` locally, with the container's mounted password file (the old
 * password) at a folder of the test and `valkey-cli` pointed at the test
 * server; the cluster test has no kubelet to exec into.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubectlAddValkeyPassword } from '../ops/verbs/rotate.js';
import { freePort } from '../scripts/free-port.js';

const REDIS = ['/usr/bin/redis-server', '/usr/local/bin/redis-server'].find((candidate) => existsSync(candidate));
const CLI = ['/usr/bin/redis-cli', '/usr/local/bin/redis-cli'].find((candidate) => existsSync(candidate));
const unavailable = REDIS && CLI ? undefined : 'redis-server and redis-cli are not installed (`sudo apt-get install -y redis-server`; .ci/run installs it)';
if (unavailable) process.stdout.write(`ops-valkey-password.test.ts skipped: ${unavailable}\n`);

const SERVER = { namespace: 'redis', name: 'redis', container: 'valkey' };
const TIMEOUT_MS = 60_000;

describe.skipIf(unavailable)('rotate valkey-password: adding the new password to the running server', () => {
  let dir: string;
  let port: number;
  let server: ChildProcess | undefined;

  /** A fake kubectl running the exec'd command here, with `auth` in the container's mounted password file (/etc/valkey-auth/password). */
  function fakeKubectl(name: string, auth: string): string {
    const shim = join(dir, 'bin', 'valkey-cli');
    writeFileSync(shim, `#!/bin/sh\n# the pod's valkey-cli, pointed at the test server\nfor arg in "$@"; do shift; if [ "$arg" = 6379 ]; then set -- "$@" ${port}; else set -- "$@" "$arg"; fi; done\nexec ${CLI} "$@"\n`);
    chmodSync(shim, 0o755);
    const script = join(dir, name);
    const mounted = join(dir, `${name}-auth`);
    mkdirSync(mounted, { recursive: true });
    writeFileSync(join(mounted, 'password'), auth);
    // After `--` come `sh -c <script>`: the script runs with the Secret volume's path pointed at this folder.
    writeFileSync(
      script,
      `#!/bin/sh\nprintf '%s\\n' "$*" > ${join(dir, `${name}.args`)}\nwhile [ "$#" -gt 0 ] && [ "$1" != -- ]; do shift; done\nshift\n[ "$1 $2" = 'sh -c' ] || exit 64\ncase "$3" in *'/etc/valkey-auth/password'*) ;; *) exit 65 ;; esac\nPATH='${join(dir, 'bin')}':"$PATH" exec sh -c "$(printf '%s' "$3" | sed 's#/etc/valkey-auth/#${mounted}/#g')"\n`,
    );
    chmodSync(script, 0o755);
    return script;
  }

  const ping = (password: string) => spawnSync(CLI!, ['-h', '127.0.0.1', '-p', String(port), '--no-auth-warning', '-a', password, 'ping'], { encoding: 'utf8', timeout: TIMEOUT_MS }).stdout.trim();

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ops-valkey-'));
    mkdirSync(join(dir, 'bin'));
    port = await freePort();
    server = spawn(REDIS!, ['--bind', '127.0.0.1', '--port', String(port), '--requirepass', 'old-password', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    for (let attempt = 0; attempt < 120 && ping('old-password') !== 'PONG'; attempt++) await new Promise((resolve) => setTimeout(resolve, 500));
    expect(ping('old-password')).toBe('PONG');
  }, TIMEOUT_MS);

  afterAll(async () => {
    if (server?.pid && server.exitCode === null) {
      const exited = new Promise((resolve) => server!.once('exit', resolve));
      process.kill(server.pid, 'SIGTERM');
      await exited;
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, TIMEOUT_MS);

  it('execs into the Valkey container of the Deployment, after which the old and the new password are both accepted', async () => {
    const kubectl = fakeKubectl('kubectl', 'old-password');
    await kubectlAddValkeyPassword('/home/op/.kube/dubai-dev.yaml', kubectl)(SERVER, 'newPassword64chars');
    expect(readFileSync(join(dir, 'kubectl.args'), 'utf8')).toMatch(/^--kubeconfig \/home\/op\/\.kube\/dubai-dev\.yaml -n redis exec -i deployment\/redis -c valkey -- sh -c /);
    expect(ping('newPassword64chars')).toBe('PONG');
    expect(ping('old-password')).toBe('PONG');
    expect(ping('another-password')).toMatch(/WRONGPASS|NOAUTH/);
  }, TIMEOUT_MS);

  it('fails, saying what is left to do, when the container cannot authenticate', async () => {
    const kubectl = fakeKubectl('kubectl-wrong-auth', 'not-the-password');
    await expect(kubectlAddValkeyPassword('/k', kubectl)(SERVER, 'yetAnotherPassword')).rejects.toThrow(/adding the new password to redis\/redis failed \(exit 1\)/);
    expect(ping('yetAnotherPassword')).toMatch(/WRONGPASS|NOAUTH/);
  }, TIMEOUT_MS);
});
