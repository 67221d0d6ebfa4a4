/**
 * `npm run ops -- upgrade-k3s`: the target check (no downgrade, no skipped
 * minor, no minor without vendored schemas), the config edit that keeps
 * comments, the Plans rendered from k3s.version, and the verb on a temporary
 * git repository: --dry-run changes nothing, a run edits the config,
 * re-renders and prints the diff and the git commands. (Starts git: slow lane.)
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { k3sUpgradePlans, preUpgradeSnapshotName } from '../generator/addons/k3s-upgrade-plans.js';
import { loadEnvironment } from '../generator/config/load-environment.js';
import { main } from '../ops/cli.js';
import { EXIT } from '../ops/plan.js';
import { targetProblem, upgradeK3sVerb, withK3sVersion } from '../ops/verbs/upgrade-k3s.js';
import { REPO_ROOT } from './support/temp-repo.js';

describe('upgrade-k3s target check', () => {
  it('accepts the next patch and the next minor', () => {
    expect(targetProblem('v1.35.2+k3s1', 'v1.35.3+k3s1')).toBeUndefined();
    expect(targetProblem('v1.35.2+k3s1', 'v1.36.3+k3s1')).toBeUndefined();
    expect(targetProblem('v1.36.3+k3s1', 'v1.36.3+k3s2')).toBeUndefined();
  });
  it('refuses a minor without vendored schemas, a downgrade, a skipped minor, the same version and a malformed one', () => {
    expect(targetProblem('v1.36.3+k3s1', 'v1.37.0+k3s1')).toMatch(/Kubernetes 1\.37, which has no vendored schemas[\s\S]*vendor the v1\.37\.0 schemas first/);
    expect(targetProblem('v1.36.3+k3s1', 'v1.36.2+k3s1')).toMatch(/older than the running v1\.36\.3\+k3s1[\s\S]*does not support downgrades/);
    expect(targetProblem('v1.34.1+k3s1', 'v1.36.3+k3s1')).toMatch(/skips a Kubernetes minor \(1\.34 → 1\.36\)/);
    expect(targetProblem('v1.36.3+k3s1', 'v1.36.3+k3s1')).toMatch(/already at/);
    expect(targetProblem('v1.36.3+k3s1', '1.36.4')).toMatch(/not a K3s release/);
  });
});

describe('the k3s.version edit', () => {
  it('changes only the value, keeping comments and layout', () => {
    const text = '# a comment\nname: dev\nk3s:\n  version: v1.36.3+k3s1 # pinned\nnode:\n  amiId: ami-0123\n';
    expect(withK3sVersion(text, 'v1.36.4+k3s1')).toBe(text.replace('v1.36.3+k3s1', 'v1.36.4+k3s1'));
  });
  it('adds the key when the config relies on the default', () => {
    expect(withK3sVersion('name: dev\n', 'v1.36.4+k3s1')).toBe('name: dev\nk3s:\n  version: v1.36.4+k3s1\n');
  });
});

describe('the Plans rendered from k3s.version', () => {
  const dev = loadEnvironment(REPO_ROOT, 'dev').config;
  const prod = loadEnvironment(REPO_ROOT, 'prod').config;
  const spec = (config: typeof dev, name: string) => k3sUpgradePlans(config).find((plan) => (plan.metadata as { name: string }).name === name)!.spec as Record<string, any>;

  it('upgrades servers one at a time after an etcd snapshot, and agents after the servers', () => {
    const server = spec(prod, 'k3s-server');
    expect(server).toMatchObject({ concurrency: 1, cordon: true, version: prod.k3s.version, nodeSelector: { matchExpressions: [{ key: 'node-role.kubernetes.io/control-plane', operator: 'Exists' }] } });
    expect(server.prepare.args).toEqual(['k3s', 'etcd-snapshot', 'save', '--name', preUpgradeSnapshotName(prod.k3s.version)]);
    const agent = spec(prod, 'k3s-agent');
    expect(agent).toMatchObject({ concurrency: 1, version: prod.k3s.version, prepare: { args: ['prepare', 'k3s-server'] }, drain: { force: true, ignoreDaemonSets: true, skipWaitForDeleteTimeout: 60 } });
    expect(agent.nodeSelector.matchExpressions[0].operator).toBe('DoesNotExist');
  });
  it('drains a server only when another node can take its pods', () => {
    expect(spec(prod, 'k3s-server').drain).toBeDefined();
    expect(spec(dev, 'k3s-server').drain).toBeUndefined();
  });
  it('follows the config version', () => {
    const next = { ...dev, k3s: { version: 'v1.36.9+k3s2' } };
    expect(k3sUpgradePlans(next).map((plan) => (plan.spec as { version: string }).version)).toEqual(['v1.36.9+k3s2', 'v1.36.9+k3s2']);
  });
});

describe('npm run ops -- upgrade-k3s on a temporary repository', () => {
  let root: string | undefined;
  afterEach(() => {
    if (root) rmSync(root, { recursive: true, force: true });
    root = undefined;
  });

  function repository(): string {
    const dir = mkdtempSync(join(tmpdir(), 'upgrade-k3s-verb-'));
    cpSync(join(REPO_ROOT, 'environments'), join(dir, 'environments'), { recursive: true });
    mkdirSync(join(dir, 'rendered', 'dev', 'k3s-upgrade-plans'), { recursive: true });
    writeFileSync(join(dir, 'rendered', 'dev', 'k3s-upgrade-plans', 'plan.yaml'), 'version: old\n');
    const git = (...args: string[]) => expect(spawnSync('git', ['-C', dir, ...args], { encoding: 'utf8' }).status).toBe(0);
    git('init', '-q');
    git('-c', 'user.name=t', '-c', 'user.email=t@example.com', 'add', '.');
    git('-c', 'user.name=t', '-c', 'user.email=t@example.com', 'commit', '-qm', 'base');
    return dir;
  }

  async function run(args: string[], rendered: string[]) {
    const lines: string[] = [];
    const reporter = { info: (line: string) => lines.push(line), warn: (line: string) => lines.push(line) };
    const verb = upgradeK3sVerb({
      render: (at, env) => {
        rendered.push(env);
        const version = /version: (\S+)/.exec(readFileSync(join(at, 'environments', `${env}.yaml`), 'utf8'))![1];
        writeFileSync(join(at, 'rendered', env, 'k3s-upgrade-plans', 'plan.yaml'), stringify({ version }));
      },
    });
    const code = await main(['upgrade-k3s', '--env', 'dev', '--root', root!, ...args], { verbs: [verb], reporter, stderr: (text) => lines.push(text) });
    return { code, output: lines.join('\n') };
  }

  it('--dry-run prints the plan and changes nothing', async () => {
    root = repository();
    const before = readFileSync(join(root, 'environments', 'dev.yaml'), 'utf8');
    const rendered: string[] = [];
    const { code, output } = await run(['--to', 'v1.36.4+k3s1', '--dry-run'], rendered);
    expect(code).toBe(EXIT.ok);
    expect(output).toContain('1. set k3s.version: v1.36.4+k3s1 in environments/dev.yaml');
    expect(readFileSync(join(root, 'environments', 'dev.yaml'), 'utf8')).toBe(before);
    expect(rendered).toEqual([]);
  });

  it('edits the config, re-renders, prints the diff and the git commands', async () => {
    root = repository();
    const rendered: string[] = [];
    const { code, output } = await run(['--to', 'v1.36.4+k3s1'], rendered);
    expect(code).toBe(EXIT.ok);
    expect(rendered).toEqual(['dev']);
    expect(readFileSync(join(root, 'environments', 'dev.yaml'), 'utf8')).toContain('  version: v1.36.4+k3s1\n');
    expect(output).toMatch(/-  version: v1\.36\.3\+k3s1\n\s*\+  version: v1\.36\.4\+k3s1/);
    expect(output).toContain('+version: v1.36.4+k3s1');
    expect(output).toContain('git switch -c k3s-dev-v1.36.4-k3s1');
    expect(output).toContain('git add environments/dev.yaml rendered/dev');
  });

  it('refuses a target minor without vendored schemas with exit 2 and changes nothing', async () => {
    root = repository();
    const rendered: string[] = [];
    const { code, output } = await run(['--to', 'v1.37.1+k3s1'], rendered);
    expect(code).toBe(EXIT.usage);
    expect(output).toContain('which has no vendored schemas');
    expect(rendered).toEqual([]);
  });
});
