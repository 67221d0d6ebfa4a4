/**
 * The K3s upgrade against a real control plane (scripts/cluster/): dev's
 * rendered system-upgrade folder (vendored Plan CRD, controller RBAC and
 * Deployment in its privileged namespace) and its two Plans are accepted; a
 * Plan the CRD forbids is refused with the API server's message; and
 * `npm run ops -- upgrade-k3s --status` reads the Plans and nodes over a
 * kubeconfig: not finished (exit 4) until the Plans report Complete at the
 * config's version and the node's kubelet runs it (exit 0).
 *
 * Skips, saying why, only when the binaries cannot be built (no Go).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { readRenderedInputs, type Manifest } from '../generator/validate/manifests.js';
import { main } from '../ops/cli.js';
import { upgradeK3sVerb } from '../ops/verbs/upgrade-k3s.js';
import { controlPlaneUnavailable, ensureControlPlane } from '../scripts/cluster/binaries.js';
import { renderedFolder, RUN_TIMEOUT_MS, useControlPlane } from './support/control-plane-suite.js';
import { REPO_ROOT } from './support/temp-repo.js';

const ENV = 'dev';

const unavailable = controlPlaneUnavailable();
if (unavailable) process.stdout.write(`upgrade-k3s-control-plane.test.ts skipped: ${unavailable}\n`);

const input = readRenderedInputs(REPO_ROOT, [ENV])[0]!;
const folder = (name: string): Manifest[] => renderedFolder(ENV, name);
const version = (parse(readFileSync(join(REPO_ROOT, 'environments', `${ENV}.yaml`), 'utf8')) as { k3s: { version: string } }).k3s.version;

describe.skipIf(unavailable)('K3s upgrade Plans and the controller on a real control plane', () => {
  const plane = useControlPlane(input, 'upgrade-k3s');

  const apply = (object: Manifest) => plane.current.kubectl.run(['apply', '--server-side', '--field-manager=argocd-controller', '-f', '-'], JSON.stringify(object));

  it('accepts the controller folder and both Plans, at the config version', async () => {
    for (const object of [...folder('system-upgrade').filter((object) => object.kind !== 'CustomResourceDefinition' && object.kind !== 'Namespace'), ...folder('k3s-upgrade-plans')]) {
      const result = await apply(object);
      expect(result.stderr, `${object.kind} ${object.metadata?.name}`).toBe('');
      expect(result.warnings, `${object.kind} ${object.metadata?.name}`).toEqual([]);
      expect(result.ok).toBe(true);
    }
    const plans = await plane.current.kubectl.json<{ items: { metadata: { name: string }; spec: { version: string; concurrency: number } }[] }>(['get', 'plans.upgrade.cattle.io', '-n', 'system-upgrade']);
    expect(plans.items.map((plan) => [plan.metadata.name, plan.spec.version, plan.spec.concurrency])).toEqual([
      ['k3s-agent', version, 1],
      ['k3s-server', version, 1],
    ]);
  }, RUN_TIMEOUT_MS);

  it('refuses a Plan the vendored CRD forbids (a prepare step without its image; the original was admitted above)', async () => {
    const server = folder('k3s-upgrade-plans').find((object) => object.metadata?.name === 'k3s-server')!;
    const broken = structuredClone(server);
    broken.metadata = { ...broken.metadata, name: 'canary-no-prepare-image' };
    delete ((broken.spec as Record<string, unknown>).prepare as Record<string, unknown>).image;
    const refused = await apply(broken);
    expect(refused.ok).toBe(false);
    expect(refused.stderr).toMatch(/spec\.prepare\.image: Required value/);
  }, RUN_TIMEOUT_MS);

  it('--status reports the upgrade unfinished (exit 4), then done once the Plans complete and the node runs the version (exit 0)', async () => {
    const lines: string[] = [];
    const reporter = { info: (line: string) => lines.push(line), warn: (line: string) => lines.push(line) };
    const status = () => main(['upgrade-k3s', '--env', ENV, '--status', '--kubeconfig', plane.current.kubeconfig, '--kubectl', ensureControlPlane(input.kubernetes.minor).kubectl, '--root', REPO_ROOT], { verbs: [upgradeK3sVerb()], reporter, stderr: (text) => lines.push(text) });

    const node = { apiVersion: 'v1', kind: 'Node', metadata: { name: 'k3s-dev', labels: { 'node-role.kubernetes.io/control-plane': 'true' } } };
    expect((await plane.current.kubectl.run(['create', '-f', '-'], JSON.stringify(node))).ok).toBe(true);
    // Every node (the harness registers one too) reports the given kubelet version.
    const kubelet = async (running: string) => {
      const nodes = await plane.current.kubectl.json<{ items: { metadata: { name: string } }[] }>(['get', 'nodes']);
      const results = await Promise.all(nodes.items.map((item) => patchNode(item.metadata.name, running)));
      return { ok: results.every((result) => result.ok) };
    };
    const patchNode = (name: string, running: string) =>
      plane.current.kubectl.run(['patch', 'node', name, '--subresource=status', '--type=merge', '-p', JSON.stringify({ status: { nodeInfo: { kubeletVersion: running } } })]);
    expect((await kubelet('v1.35.2+k3s1')).ok).toBe(true);

    const unfinished = await status();
    expect(lines.join('\n')).toContain('not finished');
    expect(unfinished).toBe(4);
    expect(lines.join('\n')).toMatch(/k3s-server: version v1\.36\.\d+\+k3s\d+, not complete/);
    expect(lines.join('\n')).toMatch(/node k3s-dev: v1\.35\.2\+k3s1, not yet/);

    for (const name of ['k3s-server', 'k3s-agent']) {
      const complete = { status: { latestVersion: version, conditions: [{ type: 'Complete', status: 'True', lastUpdateTime: new Date().toISOString() }] } };
      const patched = await plane.current.kubectl.run(['patch', 'plans.upgrade.cattle.io', name, '-n', 'system-upgrade', '--subresource=status', '--type=merge', '-p', JSON.stringify(complete)]);
      expect(patched.stderr).toBe('');
    }
    expect((await kubelet(version)).ok).toBe(true);
    lines.length = 0;
    const code = await status();
    expect(lines.join('\n')).toContain(`✓ every node runs ${version}`);
    expect(code).toBe(0);
    expect(lines.join('\n')).toContain(`✓ every node runs ${version}`);
  }, RUN_TIMEOUT_MS);
});
