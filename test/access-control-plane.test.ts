/**
 * Per-person access against a real control plane (scripts/cluster/): dev's
 * rendered `access` folder and the Tailscale chart's auth-proxy RBAC are
 * accepted, and the rights are what the roles promise, asked of the API
 * server the way the Tailscale proxy forwards a request (impersonating the
 * tailnet login name and the granted groups): `kubectl auth can-i --as
 * --as-group`. An operator lists pods but cannot read Secrets, exec or
 * port-forward; a platform admin can read Secrets; someone on the tailnet
 * with no granted group can do nothing; and the operator's ServiceAccount
 * may impersonate (auth mode needs it).
 *
 * Skips, saying why, only when the binaries cannot be built (no Go).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { readRenderedInputs, type Manifest } from '../generator/validate/manifests.js';
import { controlPlaneUnavailable } from '../scripts/cluster/binaries.js';
import { renderedFolder, RUN_TIMEOUT_MS, useControlPlane } from './support/control-plane-suite.js';
import { REPO_ROOT } from './support/temp-repo.js';

const ENV = 'dev';

const unavailable = controlPlaneUnavailable();
if (unavailable) process.stdout.write(`access-control-plane.test.ts skipped: ${unavailable}\n`);

const input = readRenderedInputs(REPO_ROOT, [ENV])[0]!;
const files = (folder: string, match: (file: string) => boolean): Manifest[] => renderedFolder(ENV, folder, match);
const config = parse(readFileSync(join(REPO_ROOT, 'environments', `${ENV}.yaml`), 'utf8')) as { access: { platformAdmins: string[]; operators: string[] } };
const groupOf = (entries: string[]) => entries.find((entry) => entry.startsWith('group:'))!.slice('group:'.length);

describe.skipIf(unavailable)('per-person access: RBAC from the config on a real control plane', () => {
  const plane = useControlPlane(input, 'access');

  /** `yes`/`no` of `kubectl auth can-i` (exit 1 with "no" is an answer, not a failure). */
  async function canI(user: string, groups: readonly string[], ...request: string[]): Promise<string> {
    const result = await plane.current.kubectl.run(['auth', 'can-i', ...request, '--as', user, ...groups.flatMap((group) => ['--as-group', group])]);
    const answer = result.stdout.trim();
    expect(['yes', 'no'], `${request.join(' ')} as ${user} ${groups.join(',')}: ${result.stderr}`).toContain(answer);
    return answer;
  }

  it('accepts the access folder and the chart auth-proxy RBAC', async () => {
    const objects = [...files('access', () => true), ...files('tailscale', (file) => file.includes('auth-proxy'))];
    expect(objects.map((object) => object.kind).sort()).toEqual(['ClusterRole', 'ClusterRole', 'ClusterRoleBinding', 'ClusterRoleBinding', 'ClusterRoleBinding', 'ServiceAccount']);
    for (const object of objects) {
      const result = await plane.current.kubectl.run(['apply', '--server-side', '--field-manager=argocd-controller', '-f', '-'], JSON.stringify(object));
      expect(result.stderr, `${object.kind} ${object.metadata?.name}`).toBe('');
      expect(result.ok).toBe(true);
    }
  }, RUN_TIMEOUT_MS);

  it('an operator lists pods, reads logs and Applications, but cannot read Secrets, exec, port-forward or change anything', async () => {
    const operator = ['bob@example.com', [groupOf(config.access.operators)]] as const;
    expect(await canI(...operator, 'list', 'pods', '--all-namespaces')).toBe('yes');
    expect(await canI(...operator, 'get', 'pods/log', '-n', 'open-webui')).toBe('yes');
    expect(await canI(...operator, 'list', 'applications.argoproj.io', '-n', 'argocd')).toBe('yes');
    expect(await canI(...operator, 'list', 'nodes')).toBe('yes');
    expect(await canI(...operator, 'get', 'secrets', '-n', 'litellm')).toBe('no');
    expect(await canI(...operator, 'list', 'secrets', '--all-namespaces')).toBe('no');
    expect(await canI(...operator, 'create', 'pods/exec', '-n', 'open-webui')).toBe('no');
    expect(await canI(...operator, 'create', 'pods/portforward', '-n', 'open-webui')).toBe('no');
    expect(await canI(...operator, 'delete', 'pods', '-n', 'open-webui')).toBe('no');
    expect(await canI(...operator, 'patch', 'deployments.apps', '-n', 'open-webui')).toBe('no');
  }, RUN_TIMEOUT_MS);

  it('a platform admin can read Secrets and change anything', async () => {
    const admin = ['alice@example.com', [groupOf(config.access.platformAdmins)]] as const;
    expect(await canI(...admin, 'get', 'secrets', '-n', 'litellm')).toBe('yes');
    expect(await canI(...admin, 'delete', 'pods', '-n', 'open-webui')).toBe('yes');
    expect(await canI(...admin, '*', '*')).toBe('yes');
  }, RUN_TIMEOUT_MS);

  it('someone on the tailnet with no granted group can do nothing (so revoking the grant revokes the person)', async () => {
    expect(await canI('mallory@example.com', [], 'list', 'pods', '-n', 'open-webui')).toBe('no');
    expect(await canI('mallory@example.com', ['some-other-group'], 'get', 'secrets', '-n', 'litellm')).toBe('no');
  }, RUN_TIMEOUT_MS);

  it("the operator's ServiceAccount may impersonate users and groups (the proxy's auth mode), and nothing else may", async () => {
    expect(await canI('system:serviceaccount:tailscale:operator', [], 'impersonate', 'users')).toBe('yes');
    expect(await canI('system:serviceaccount:tailscale:operator', [], 'impersonate', 'groups')).toBe('yes');
    expect(await canI('bob@example.com', [groupOf(config.access.operators)], 'impersonate', 'groups')).toBe('no');
  }, RUN_TIMEOUT_MS);
});
