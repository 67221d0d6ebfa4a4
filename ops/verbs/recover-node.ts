/**
 * npm run ops -- recover-node --env NAME [--server N]
 *
 * "Instance gone, stack present": a server's instance was terminated (or
 * lost), but the stack still holds it, so `npm run bootstrap` sees no change.
 * This gives that server the next generation in cluster.serverGenerations
 * (environments/<env>.yaml), which renames its instance's logical id
 * (NodeInstance → NodeInstanceG2): CloudFormation creates a new instance and
 * drops the gone one, while the server's data volume keeps its logical id and
 * is attached to the new instance. Why a new logical id rather than a changed
 * immutable property: it replaces exactly that server whatever the instance
 * type allows, it is visible in the change set as one Add and one Remove, and
 * the bootstrap's quorum rule sees it as one server lost.
 *
 * In a cluster the replacement joins the running servers with the K3s token
 * from Secrets Manager (its user data finds the cluster marker). Never more
 * servers than etcd can lose: when more are gone, etcd has lost its quorum
 * and this refuses (restore the cluster from an etcd snapshot instead). The
 * agents are the Auto Scaling group's job (it replaces a terminated agent).
 */
import { renameSync, writeFileSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseDocument } from 'yaml';
import type { EnvConfig } from '../../generator/config/schema.js';
import { serverFailureTolerance } from '../../generator/cluster/topology.js';
import { checkAccount } from '../../bootstrap/lib/account-guard.js';
import { UsageError } from '../../bootstrap/lib/args.js';
import { awsClients, clientsInRegion, type AwsClients } from '../../bootstrap/lib/aws-clients.js';
import { loadConfig } from '../../bootstrap/lib/environment.js';
import { BootstrapError } from '../../bootstrap/lib/errors.js';
import { pollUntil, type Clock } from '../../bootstrap/lib/polling.js';
import { describeServer, isLost, serverStates, type ServerState } from '../../bootstrap/lib/server-health.js';
import { currentServerIds, serverLogicalIds, serverNodeName, stackName as stackNameOf } from '../../bootstrap/names.js';
import { renderStackFiles } from '../../bootstrap/render.js';
import { runBootstrap } from '../../bootstrap/scripts/bootstrap.js';
import { EXIT, executePlan, type Plan, type Step } from '../plan.js';
import type { Verb, VerbContext } from '../verb.js';

export interface RecoverNodeDeps {
  /** The AWS clients for the environment's region (tests pass clients talking to moto). */
  clients?: (config: EnvConfig) => AwsClients;
  clock?: Clock;
  /** Polling interval while following the stack and the new instance (ms). */
  intervalMs?: number;
}

/** The environment file with server `server` at `generation`, comments and layout kept. */
export function withServerGeneration(text: string, config: EnvConfig, server: number, generation: number): string {
  const document = parseDocument(text);
  const entries = [...config.cluster.serverGenerations.filter((entry) => entry.server !== server), { server, generation }].sort((a, b) => a.server - b.server);
  document.setIn(['cluster', 'serverGenerations'], document.createNode(entries));
  return document.toString();
}

export function writeAtomically(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(`${path}.tmp`, text);
  renameSync(`${path}.tmp`, path);
}

/** Whether the cluster runs from a restore (cluster.etcdRestore at server 1's generation, which runs). */
export function restoredCluster(config: EnvConfig, states: ServerState[]): boolean {
  const restore = config.cluster.etcdRestore;
  const first = states.find((state) => state.server === 1);
  return restore !== undefined && first !== undefined && first.generation === restore.generation && !isLost(first);
}

/** Which lost server this run re-creates, or why it cannot. */
function chooseServer(config: EnvConfig, states: ServerState[], requested: number | undefined): ServerState {
  const lost = states.filter(isLost);
  if (requested !== undefined) {
    const state = states.find((candidate) => candidate.server === requested);
    if (!state) throw new UsageError(`--server ${requested}: environment ${config.name} has servers 1 to ${config.cluster.servers}`);
    if (!isLost(state)) {
      throw new BootstrapError(`server ${requested} is not lost (${describeServer(state)}); recover-node only re-creates a server whose instance is gone`, 'for a running but broken server, terminate its instance first (after checking etcd still has quorum without it), then run recover-node again');
    }
  }
  const tolerance = serverFailureTolerance(config.cluster.servers);
  // After recover-cluster, etcd has only the restored first server and those that rejoined: adding one is safe.
  if (config.cluster.servers >= 3 && lost.length > tolerance && !restoredCluster(config, states)) {
    throw new BootstrapError(
      [`${lost.length} of the ${config.cluster.servers} servers are gone; etcd keeps its quorum only while at most ${tolerance} ${tolerance === 1 ? 'is' : 'are'}, so the survivors cannot admit new members:`, ...lost.map((state) => `  ${describeServer(state)}`)].join('\n'),
      'restore the cluster from the latest etcd snapshot in S3 (docs/operations.md, "Restore from an etcd snapshot"), then recover the remaining servers one per run',
    );
  }
  return states.find((candidate) => candidate.server === requested) ?? lost[0]!;
}

export async function planRecoverNode(context: VerbContext, deps: RecoverNodeDeps = {}): Promise<Plan | undefined> {
  const { config, root, run } = context;
  const { reporter } = run;
  const raw = context.values['server'];
  const requested = typeof raw === 'string' ? Number(raw) : undefined;
  if (requested !== undefined && (!Number.isInteger(requested) || requested < 1)) throw new UsageError(`--server must be a server number (1, 2, …), not "${String(raw)}"`);
  const clients = (deps.clients ?? ((c: EnvConfig) => awsClients({ region: c.aws.region })))(config);
  if (!clients.ec2) throw new Error('recover-node needs an EC2 client');
  const ec2 = clients.ec2;
  const stack = stackNameOf(config);

  const caller = await checkAccount(clients.sts, config);
  reporter.info(`✓ credentials are for account ${caller.account}`);
  reporter.info(`Looking at the servers of stack ${stack}…`);
  const states = await serverStates({ cfn: clients.cfn, ec2 }, stack, config);
  for (const state of states) reporter.info(`  ${describeServer(state)}`);
  if (!states.some(isLost) && requested === undefined) {
    reporter.info(`✓ every server of ${stack} has its instance; nothing to recover`);
    return undefined;
  }
  const target = chooseServer(config, states, requested);
  const next = target.generation + 1;
  const newIds = serverLogicalIds(target.server, next);
  const envFile = `environments/${config.name}.yaml`;
  const others = states.filter(isLost).filter((state) => state.server !== target.server);

  const consequences: string[] = [];
  if (config.cluster.servers === 1) {
    consequences.push('this is the only server: the new instance starts a new K3s cluster, and Argo CD re-applies everything from git; state only etcd held is not brought back by this verb');
  } else {
    consequences.push(`the new server joins the ${config.cluster.servers - 1} other servers with the K3s token from Secrets Manager; etcd copies its data over`);
    // Not done by this verb (it talks to AWS only): the stale etcd member would count against the quorum.
    consequences.push(`remove the lost server from etcd first, if not done yet: kubectl delete node ${serverNodeName(config, target.server)} (K3s then drops its etcd member)`);
  }
  consequences.push(`the data volume ${currentServerIds(config, target.server).dataVolume} stays and is attached to the new instance; Longhorn rebuilds replicas that went stale`);
  if (others.length > 0) consequences.push(`also gone, for a later run (one server per run): ${others.map((state) => `server ${state.server}`).join(', ')}`);

  return {
    summary: `re-create server ${target.server} of ${stack} (${target.logicalId} → ${newIds.instance})`,
    consequences,
    steps: replaceServerSteps(context, deps, clients, target, {
      title: `set server ${target.server} to generation ${next} in ${envFile} (cluster.serverGenerations)`,
      edit: (text) => withServerGeneration(text, config, target.server, next),
    }),
  };
}

/**
 * The steps that re-create one lost server: edit the environment file (the
 * new generation, and whatever else the caller adds), write the stack files,
 * deploy with the bootstrap's checks, wait for the new instance.
 */
export function replaceServerSteps(
  context: VerbContext,
  deps: RecoverNodeDeps,
  clients: AwsClients,
  target: ServerState,
  fileEdit: { title: string; edit: (text: string) => string },
): Step[] {
  const { config, root } = context;
  const reporter = context.run.reporter;
  const ec2 = clients.ec2!;
  const stack = stackNameOf(config);
  const next = target.generation + 1;
  const newIds = serverLogicalIds(target.server, next);
  const envFile = `environments/${config.name}.yaml`;
  let updated: EnvConfig | undefined;
  return [
      {
        title: fileEdit.title,
        run: async () => {
          const path = join(root, envFile);
          writeAtomically(path, fileEdit.edit(readFileSync(path, 'utf8')));
          updated = loadConfig(root, config.name);
        },
      },
      {
        title: `write rendered/${config.name}/bootstrap/ (template.yaml, parameters.json) for the new generation`,
        run: async () => {
          for (const [file, content] of renderStackFiles(updated!)) writeAtomically(join(root, 'rendered', config.name, file), content);
        },
      },
      {
        title: `deploy ${stack}: add ${newIds.instance} and ${newIds.attachment}, remove ${target.logicalId} (with npm run bootstrap's checks)`,
        destructive: true,
        run: async () => {
          const result = await runBootstrap(
            { root, env: config.name, yes: true, allowReplace: [], intervalMs: deps.intervalMs, timeoutMs: 60 * 60_000 },
            { clients, clientsIn: clientsInRegion(deps.clients, config), reporter, clock: deps.clock },
          );
          if (result.outcome !== 'deployed') throw new BootstrapError(`the bootstrap ended with "${result.outcome}" instead of deploying ${newIds.instance}`);
        },
      },
      {
        title: `wait until ${newIds.instance} is running`,
        run: async () => {
          const state = await pollUntil(
            `${newIds.instance} to run`,
            async () => {
              const now = (await serverStates({ cfn: clients.cfn, ec2 }, stack, updated!)).find((candidate) => candidate.server === target.server)!;
              return { done: now.state === 'running' ? now : undefined, state: describeServer(now) };
            },
            { timeoutMs: 15 * 60_000, intervalMs: deps.intervalMs ?? 10_000, clock: deps.clock },
          );
          reporter.info(`  ${describeServer(state)}`);
        },
      },
  ];
}

/** The git commands that turn what a recovery wrote into a pull request. */
export function pullRequestCommands(env: string, verb: string, what: string): string {
  return [
    'Next: make it a pull request (the stack already runs this change):',
    `  npm run render -- --env ${env}`,
    `  git switch -c ${verb}-${env}`,
    `  git add environments/${env}.yaml environments/${env}.outputs.yaml rendered/${env}`,
    `  git commit -m "${env}: ${what} (${verb})"`,
  ].join('\n');
}

export function recoverNodeVerb(deps: RecoverNodeDeps = {}): Verb {
  return {
    name: 'recover-node',
    summary: 'Re-create a K3s server whose instance is gone while the stack remains (one per run, never past etcd quorum)',
    usage: '[--server N]',
    options: { server: { type: 'string' } },
    async run(context) {
      const plan = await planRecoverNode(context, deps);
      if (!plan) return EXIT.ok;
      const code = await executePlan(plan, context.run);
      if (code === EXIT.ok) context.run.reporter.info(pullRequestCommands(context.config.name, 'recover-node', 're-create a lost K3s server'));
      return code;
    },
  };
}

export const recoverNode = recoverNodeVerb();
