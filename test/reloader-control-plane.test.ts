/**
 * The reloader add-on against a real control plane (scripts/cluster/): dev's
 * rendered reloader folder is accepted by the API server, and Reloader's
 * ServiceAccount, asked with impersonation (`kubectl auth can-i --as
 * system:serviceaccount:reloader:reloader`), may read Secrets and patch
 * Deployments in exactly the namespaces it restarts (litellm, open-webui) and
 * in none of argocd, external-secrets, kube-system, database or cluster-wide.
 * A planted Role binding in kube-system turns that answer to yes, so the
 * check can fail. Reloader itself does not run here: it is not on the Go
 * module proxy and there is no container runtime (docs/operations.md).
 *
 * Skips, saying why, only when the binaries cannot be built (no Go).
 */
import { describe, expect, it } from 'vitest';
import { readRenderedInputs, type Manifest } from '../generator/validate/manifests.js';
import { controlPlaneUnavailable } from '../scripts/cluster/binaries.js';
import { renderedFolder, RUN_TIMEOUT_MS, useControlPlane } from './support/control-plane-suite.js';
import { REPO_ROOT } from './support/temp-repo.js';

const ENV = 'dev';
const SERVICE_ACCOUNT = 'system:serviceaccount:reloader:reloader';
const TARGETS = ['litellm', 'open-webui'];
const OUTSIDE = ['argocd', 'external-secrets', 'kube-system', 'database', 'reloader'];

const unavailable = controlPlaneUnavailable();
if (unavailable) process.stdout.write(`reloader-control-plane.test.ts skipped: ${unavailable}\n`);

const input = readRenderedInputs(REPO_ROOT, [ENV])[0]!;
const folder = (name: string): Manifest[] => renderedFolder(ENV, name);
/** Namespaces first, as the Applications' waves order them. */
const ordered = (objects: Manifest[]) => [...objects.filter((object) => object.kind === 'Namespace'), ...objects.filter((object) => object.kind !== 'Namespace')];

describe.skipIf(unavailable)('reloader add-on: RBAC scope on a real control plane', () => {
  const plane = useControlPlane(input, 'reloader');

  async function apply(object: unknown): Promise<void> {
    const result = await plane.current.kubectl.run(['apply', '--server-side', '--field-manager=argocd-controller', '-f', '-'], JSON.stringify(object));
    expect(result.stderr, JSON.stringify((object as Manifest).metadata)).toBe('');
    expect(result.ok).toBe(true);
  }

  async function canI(...request: string[]): Promise<string> {
    const result = await plane.current.kubectl.run(['auth', 'can-i', ...request, '--as', SERVICE_ACCOUNT]);
    const answer = result.stdout.trim();
    expect(['yes', 'no'], `${request.join(' ')}: ${result.stderr}`).toContain(answer);
    return answer;
  }

  it('accepts the rendered reloader folder (and the target namespaces it binds Roles in)', async () => {
    const objects = folder('reloader');
    expect(objects.map((object) => object.kind)).toContain('Deployment');
    for (const namespace of TARGETS) for (const object of folder(namespace).filter((entry) => entry.kind === 'Namespace')) await apply(object);
    for (const object of ordered(objects)) await apply(object);
  }, RUN_TIMEOUT_MS);

  it('may get, list and watch Secrets and patch Deployments in exactly the target namespaces', async () => {
    for (const namespace of TARGETS) {
      for (const verb of ['get', 'list', 'watch']) expect(await canI(verb, 'secrets', '-n', namespace), `${verb} secrets in ${namespace}`).toBe('yes');
      expect(await canI('patch', 'deployments.apps', '-n', namespace)).toBe('yes');
      expect(await canI('list', 'configmaps', '-n', namespace), `configmaps in ${namespace}`).toBe('no');
      expect(await canI('delete', 'secrets', '-n', namespace)).toBe('no');
      expect(await canI('create', 'pods', '-n', namespace)).toBe('no');
    }
  }, RUN_TIMEOUT_MS);

  it('cannot read Secrets or patch Deployments anywhere else, nor cluster-wide', async () => {
    for (const namespace of OUTSIDE) {
      expect(await canI('get', 'secrets', '-n', namespace), `secrets in ${namespace}`).toBe('no');
      expect(await canI('patch', 'deployments.apps', '-n', namespace), `deployments in ${namespace}`).toBe('no');
    }
    expect(await canI('list', 'secrets', '--all-namespaces')).toBe('no');
    expect(await canI('list', 'namespaces')).toBe('no');
    // Its own namespace: only its meta-info ConfigMap.
    expect(await canI('create', 'configmaps', '-n', 'reloader')).toBe('yes');
  }, RUN_TIMEOUT_MS);

  it('would see a wider grant: a planted Role binding in kube-system turns the answer to yes until it is removed', async () => {
    const role = folder('reloader').find((object) => object.kind === 'Role' && object.metadata?.namespace === 'litellm')!;
    const binding = folder('reloader').find((object) => object.kind === 'RoleBinding' && object.metadata?.namespace === 'litellm')!;
    const planted = [role, binding].map((object) => ({ ...object, metadata: { ...object.metadata, name: 'planted-reloader', namespace: 'kube-system' }, ...(object.kind === 'RoleBinding' ? { roleRef: { ...(object as any).roleRef, name: 'planted-reloader' } } : {}) }));
    for (const object of planted) await apply(object);
    expect(await canI('get', 'secrets', '-n', 'kube-system')).toBe('yes');
    for (const object of planted) {
      const result = await plane.current.kubectl.run(['delete', String(object.kind).toLowerCase(), 'planted-reloader', '-n', 'kube-system']);
      expect(result.ok, result.stderr).toBe(true);
    }
    expect(await canI('get', 'secrets', '-n', 'kube-system')).toBe('no');
  }, RUN_TIMEOUT_MS);
});
