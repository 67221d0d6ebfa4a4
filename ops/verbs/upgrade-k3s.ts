/**
 * npm run ops -- upgrade-k3s --env NAME --to vX.Y.Z+k3sN
 * npm run ops -- upgrade-k3s --env NAME --status [--kubeconfig FILE]
 *
 * A K3s upgrade is a pull request: this verb edits `k3s.version` in
 * environments/NAME.yaml, re-renders the environment (the system-upgrade
 * Plans take the new version), prints the diff and the git commands. Once the
 * change is merged and Argo CD has synced, the controller upgrades the servers
 * one at a time (an etcd snapshot first), then the agents. `--status` reads
 * the Plans and the nodes' kubelet versions over the kubeconfig.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { isMap, parseDocument, isScalar } from 'yaml';
import { UsageError } from '../../bootstrap/lib/args.js';
import { AGENT_PLAN, SERVER_PLAN } from '../../generator/addons/k3s-upgrade-plans.js';
import { isSupportedMinor, SUPPORTED_KUBERNETES_MINORS } from '../../generator/kubernetes-version.js';
import { NAMESPACES } from '../../generator/platform-names.js';
import { Kubectl } from '../../scripts/cluster/kubectl.js';
import { EXIT, executePlan, type Plan } from '../plan.js';
import type { Verb, VerbContext } from '../verb.js';

export interface K3sRelease {
  minor: number;
  patch: number;
  revision: number;
}

export function parseK3sRelease(version: string): K3sRelease | undefined {
  const match = /^v1\.([0-9]+)\.([0-9]+)\+k3s([0-9]+)$/.exec(version);
  return match ? { minor: Number(match[1]), patch: Number(match[2]), revision: Number(match[3]) } : undefined;
}

function compare(a: K3sRelease, b: K3sRelease): number {
  return a.minor - b.minor || a.patch - b.patch || a.revision - b.revision;
}

/** Why `to` cannot follow `current`, or undefined when it can. Each problem says what to do instead. */
export function targetProblem(current: string, to: string): string | undefined {
  const target = parseK3sRelease(to);
  if (!target) return `--to ${to} is not a K3s release\n  expected: vMAJOR.MINOR.PATCH+k3sN, e.g. v1.36.4+k3s1 (the tags of github.com/k3s-io/k3s)`;
  if (!isSupportedMinor(target.minor)) {
    const supported = SUPPORTED_KUBERNETES_MINORS.map((minor) => `1.${minor}`).join(', ');
    return `--to ${to} is Kubernetes 1.${target.minor}, which has no vendored schemas (schemas/kubernetes/v1.${target.minor}.0)\n  expected: a release of Kubernetes ${supported}\n  fix: vendor the v1.${target.minor}.0 schemas first (schemas/README.md), then upgrade`;
  }
  const from = parseK3sRelease(current);
  if (!from) return undefined;
  const order = compare(target, from);
  if (order === 0) return `environment is already at ${to}: nothing to upgrade`;
  if (order < 0) return `--to ${to} is older than the running ${current}\n  K3s does not support downgrades: recover from an etcd snapshot taken before the upgrade instead (npm run ops -- recover-cluster)`;
  if (target.minor > from.minor + 1) return `--to ${to} skips a Kubernetes minor (1.${from.minor} → 1.${target.minor})\n  Kubernetes upgrades one minor at a time: upgrade to the latest 1.${from.minor + 1} release first`;
  return undefined;
}

/** The config text with `k3s.version` set to `to`, everything else (comments, layout) unchanged. */
export function withK3sVersion(text: string, to: string): string {
  const document = parseDocument(text);
  const version = document.getIn(['k3s', 'version'], true);
  if (isScalar(version) && version.range) return `${text.slice(0, version.range[0])}${to}${text.slice(version.range[1])}`;
  const k3s = document.get('k3s', true);
  if (k3s === undefined) return `${text.endsWith('\n') ? text : `${text}\n`}k3s:\n  version: ${to}\n`;
  if (isMap(k3s)) {
    document.setIn(['k3s', 'version'], to);
    return document.toString();
  }
  throw new Error('k3s in the config is not a mapping: set k3s.version by hand');
}

function git(root: string, args: string[]): string {
  const result = spawnSync('git', ['-C', root, ...args], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`git ${args.join(' ')}: ${result.stderr.trim()}`);
  return result.stdout;
}

export interface PlanStatus {
  name: string;
  version: string;
  latestVersion?: string;
  applying: string[];
  complete: boolean;
  message?: string;
}

interface PlanObject {
  metadata: { name: string };
  spec: { version?: string };
  status?: { latestVersion?: string; applying?: string[]; conditions?: { type: string; status: string; message?: string; reason?: string }[] };
}

export function planStatus(plan: PlanObject): PlanStatus {
  const conditions = plan.status?.conditions ?? [];
  const complete = conditions.find((condition) => condition.type === 'Complete');
  const message = conditions.map((condition) => condition.message).find((text) => text);
  return {
    name: plan.metadata.name,
    version: plan.spec.version ?? '(none)',
    latestVersion: plan.status?.latestVersion,
    applying: plan.status?.applying ?? [],
    complete: complete?.status === 'True' && plan.status?.latestVersion === plan.spec.version,
    ...(message ? { message } : {}),
  };
}

interface NodeObject {
  metadata: { name: string; labels?: Record<string, string> };
  spec: { unschedulable?: boolean };
  status: { nodeInfo: { kubeletVersion: string } };
}

async function reportStatus(context: VerbContext, kubeconfig: string): Promise<number> {
  const { reporter } = context.run;
  const kubectlBinary = typeof context.values.kubectl === 'string' ? context.values.kubectl : 'kubectl';
  const kubectl = new Kubectl(kubectlBinary, kubeconfig, join(tmpdir(), 'dubai-ops-kubectl-cache'), 30_000);
  reporter.info(`reading the K3s upgrade Plans of ${context.config.name} (${kubeconfig})`);
  const plans = await kubectl.json<{ items: PlanObject[] }>(['get', 'plans.upgrade.cattle.io', '-n', NAMESPACES.systemUpgrade]);
  const nodes = await kubectl.json<{ items: NodeObject[] }>(['get', 'nodes']);
  const want = context.config.k3s.version;
  let done = true;
  for (const name of [SERVER_PLAN, AGENT_PLAN]) {
    const plan = plans.items.find((item) => item.metadata.name === name);
    if (!plan) {
      reporter.info(`  ${name}: missing (has Argo CD synced k3s-upgrade-plans?)`);
      done = false;
      continue;
    }
    const status = planStatus(plan);
    if (!status.complete) done = false;
    const applying = status.applying.length > 0 ? `, upgrading ${status.applying.join(', ')}` : '';
    reporter.info(`  ${name}: version ${status.version}, ${status.complete ? 'complete' : 'not complete'}${applying}${status.message ? ` (${status.message})` : ''}`);
    if (status.version !== want) {
      reporter.info(`    the config says ${want}: the merge has not been synced yet`);
      done = false;
    }
  }
  const kubelet = want.replace(/\+.*/, '');
  for (const node of nodes.items) {
    const running = node.status.nodeInfo.kubeletVersion;
    const at = running.startsWith(`${kubelet}+`) || running === kubelet;
    if (!at) done = false;
    reporter.info(`  node ${node.metadata.name}: ${running}${node.spec.unschedulable ? ', cordoned' : ''}${at ? '' : `, not yet ${want}`}`);
  }
  reporter.info(done ? `✓ every node runs ${want}` : `upgrade to ${want} not finished`);
  return done ? EXIT.ok : EXIT.findings;
}

export interface UpgradeDeps {
  /** Re-renders one environment; the default runs `npm run render -- --env NAME`'s command. */
  render(root: string, env: string): void;
}

const defaultDeps: UpgradeDeps = {
  render(root, env) {
    const result = spawnSync(process.execPath, [join(root, 'generator', 'launch.mjs'), 'cli', '--env', env], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    if (result.status !== 0) throw new Error(`npm run render -- --env ${env} failed:\n${result.stdout}${result.stderr}`);
  },
};

export function upgradePlan(context: VerbContext, to: string, deps: UpgradeDeps = defaultDeps): Plan {
  const { root, config } = context;
  const { reporter } = context.run;
  const file = join(root, 'environments', `${config.name}.yaml`);
  const branch = `k3s-${config.name}-${to.replace(/[^a-z0-9.]+/gi, '-')}`;
  const paths = [`environments/${config.name}.yaml`, `rendered/${config.name}`];
  return {
    summary: `upgrade K3s of ${config.name} from ${config.k3s.version} to ${to} (a pull request: nothing changes in the cluster until it is merged)`,
    consequences: [
      'after the merge: each server in turn takes an etcd snapshot, is cordoned (drained when another node can take its pods) and restarts k3s; then each agent is drained and upgraded',
      'a one-node environment: its API and pods are unavailable while k3s restarts (about a minute)',
    ],
    steps: [
      {
        title: `set k3s.version: ${to} in environments/${config.name}.yaml`,
        run: async () => writeFileSync(file, withK3sVersion(readFileSync(file, 'utf8'), to)),
      },
      { title: `re-render rendered/${config.name}/ (npm run render -- --env ${config.name})`, run: async () => deps.render(root, config.name) },
      {
        title: 'print the change and the git commands for the pull request',
        run: async () => {
          for (const line of git(root, ['diff', '--stat', '--', ...paths]).trimEnd().split('\n')) reporter.info(`  ${line}`);
          for (const line of git(root, ['diff', '--', `environments/${config.name}.yaml`, `rendered/${config.name}/k3s-upgrade-plans`]).trimEnd().split('\n')) reporter.info(`  ${line}`);
          reporter.info('next:');
          reporter.info(`  git switch -c ${branch}`);
          reporter.info(`  git add ${paths.join(' ')}`);
          reporter.info(`  git commit -m "K3s ${to} in ${config.name}"`);
          reporter.info(`  git push -u origin ${branch}   # then open the pull request; after the merge: npm run ops -- upgrade-k3s --env ${config.name} --status`);
        },
      },
    ],
  };
}

export function upgradeK3sVerb(deps: UpgradeDeps = defaultDeps): Verb {
  return {
    name: 'upgrade-k3s',
    summary: 'K3s upgrade as a pull request: set k3s.version, re-render the system-upgrade Plans; --status follows the rollout',
    usage: '(--to vX.Y.Z+k3sN | --status [--kubeconfig FILE] [--kubectl PATH])',
    options: { to: { type: 'string' }, status: { type: 'boolean', default: false }, kubeconfig: { type: 'string' }, kubectl: { type: 'string' } },
    async run(context) {
      const { values, config } = context;
      if (values.status === true) {
        if (typeof values.to === 'string') throw new UsageError('--status and --to are exclusive');
        const kubeconfig = resolve(typeof values.kubeconfig === 'string' ? values.kubeconfig : join(homedir(), '.kube', `dubai-${config.name}.yaml`));
        return reportStatus(context, kubeconfig);
      }
      if (typeof values.to !== 'string') throw new UsageError('--to vX.Y.Z+k3sN (or --status) is required');
      const problem = targetProblem(config.k3s.version, values.to);
      if (problem) throw new UsageError(problem);
      return executePlan(upgradePlan(context, values.to, deps), context.run);
    },
  };
}

export const upgradeK3s = upgradeK3sVerb();
