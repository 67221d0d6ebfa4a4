/**
 * npm run ops -- restore-database --env NAME --to <RFC 3339 time>
 * npm run ops -- restore-database --env NAME --delete-old
 *
 * Aurora point-in-time restore, done by the stack and driven from git. The
 * stack owns the cluster, so the restore is one more entry in aurora.restores
 * (environments/<env>.yaml): the template then holds a second cluster,
 * AuroraClusterG<n>, restored by RDS from the current one at that time (a full
 * copy, with the same key, subnets, security group, parameters and a managed
 * master password of its own), with its writer and readers; the stack
 * outputs (endpoint, reader endpoint, secret ARN) switch to it, so the
 * outputs file and the next render point the apps at it. The old cluster
 * stays in the stack (the way back) until `--delete-old` sets keepSource:
 * false, turns off its deletion protection and deploys: CloudFormation then
 * deletes it after a final snapshot (DeletionPolicy Snapshot).
 *
 * Before anything changes, the time is checked against the current
 * cluster's restorable window (DescribeDBClusters EarliestRestorableTime /
 * LatestRestorableTime); a time outside it, or in the future, is refused with
 * the window in the message.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DescribeStackResourceCommand, type CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { DescribeDBClustersCommand, ModifyDBClusterCommand, type DBCluster, type RDSClient } from '@aws-sdk/client-rds';
import { parse, parseDocument } from 'yaml';
import type { EnvConfig } from '../../generator/config/schema.js';
import { parseRfc3339, utcTimestamp } from '../../generator/config/timestamps.js';
import { checkAccount } from '../../bootstrap/lib/account-guard.js';
import { UsageError } from '../../bootstrap/lib/args.js';
import { awsClients, clientsInRegion, type AwsClients } from '../../bootstrap/lib/aws-clients.js';
import { loadConfig } from '../../bootstrap/lib/environment.js';
import { BootstrapError } from '../../bootstrap/lib/errors.js';
import { pollUntil, realClock } from '../../bootstrap/lib/polling.js';
import { stackName as stackNameOf } from '../../bootstrap/names.js';
import { renderStackFiles } from '../../bootstrap/render.js';
import { runBootstrap } from '../../bootstrap/scripts/bootstrap.js';
import { activeAuroraGeneration, auroraGenerationsInStack, auroraLogicalIds } from '../../bootstrap/template/database.js';
import { EXIT, executePlan, type Plan, type Step } from '../plan.js';
import type { Verb, VerbContext } from '../verb.js';
import { pullRequestCommands, writeAtomically, type RecoverNodeDeps } from './recover-node.js';

export type RestoreDatabaseDeps = RecoverNodeDeps;

type Restore = EnvConfig['aurora']['restores'][number];

/** The instant --to names: an RFC 3339 timestamp, not in the future. */
export function restoreTarget(text: string, now: Date): Date {
  const instant = parseRfc3339(text);
  if (!instant) throw new UsageError(`--to "${text}" is not an RFC 3339 timestamp; give a UTC time such as ${now.toISOString().slice(0, 19)}Z (date -u +%Y-%m-%dT%H:%M:%SZ)`);
  if (instant.getTime() > now.getTime()) {
    throw new UsageError(`--to ${text} is in the future (it is now ${now.toISOString()}): Aurora restores only to a time it has already seen; give a past time, at most the latest restorable time (a few minutes ago)`);
  }
  return instant;
}

/** The environment file with one more restore appended (or every kept source dropped), comments and layout kept. */
export function withAuroraRestores(text: string, restores: Restore[]): string {
  const document = parseDocument(text);
  document.setIn(['aurora', 'restores'], document.createNode(restores));
  return document.toString();
}

/** The physical DB cluster identifier of a logical id of the stack. */
export async function stackClusterIdentifier(cfn: CloudFormationClient, stack: string, logicalId: string): Promise<string> {
  const described = await cfn.send(new DescribeStackResourceCommand({ StackName: stack, LogicalResourceId: logicalId }));
  const id = described.StackResourceDetail?.PhysicalResourceId;
  if (!id) throw new BootstrapError(`stack ${stack} has no ${logicalId} yet`, 'bootstrap the environment first (npm run bootstrap): there is no cluster to restore from');
  return id;
}

export async function describeCluster(rds: RDSClient, identifier: string): Promise<DBCluster> {
  const described = await rds.send(new DescribeDBClustersCommand({ DBClusterIdentifier: identifier }));
  const cluster = described.DBClusters?.[0];
  if (!cluster) throw new BootstrapError(`RDS does not know the cluster ${identifier}`, 'check the stack and the region');
  return cluster;
}

export interface RestorableWindow {
  earliest: Date;
  latest: Date;
}

/** The window, or why the time is outside it. */
export function checkInWindow(cluster: DBCluster, target: Date, text: string): RestorableWindow {
  const earliest = cluster.EarliestRestorableTime;
  const latest = cluster.LatestRestorableTime;
  if (!earliest || !latest) {
    throw new BootstrapError(`cluster ${cluster.DBClusterIdentifier} reports no restorable window yet (status ${cluster.Status ?? 'unknown'})`, 'a new cluster has one once its first automated backup exists; try again later');
  }
  const window = `${earliest.toISOString()} to ${latest.toISOString()}`;
  if (target.getTime() < earliest.getTime() || target.getTime() > latest.getTime()) {
    throw new BootstrapError(
      `--to ${text} is outside the restorable window of ${cluster.DBClusterIdentifier}: ${window}`,
      target.getTime() < earliest.getTime()
        ? `give a time from ${earliest.toISOString()} on (older data is only in manual or final snapshots; aurora.backupRetentionDays sets the window's length)`
        : `give a time up to ${latest.toISOString()} (the last few minutes are not restorable yet)`,
    );
  }
  return { earliest, latest };
}

function clientsOf(config: EnvConfig, deps: RestoreDatabaseDeps): AwsClients & { rds: RDSClient } {
  const clients = (deps.clients ?? ((c: EnvConfig) => awsClients({ region: c.aws.region })))(config);
  if (!clients.rds) throw new Error('restore-database needs an RDS client');
  return clients as AwsClients & { rds: RDSClient };
}

/** Steps every change of this verb shares: edit the file, write the stack files, deploy with the bootstrap's checks (`deployed` is called once it is done). */
function deploySteps(
  context: VerbContext,
  deps: RestoreDatabaseDeps,
  clients: AwsClients,
  edit: { title: string; restores: Restore[] },
  deploy: { title: string; allowReplace: string[]; deployed?: () => void },
): Step[] {
  const { config, root } = context;
  const envFile = `environments/${config.name}.yaml`;
  return [
    {
      title: edit.title,
      run: async () => {
        const path = join(root, envFile);
        writeAtomically(path, withAuroraRestores(readFileSync(path, 'utf8'), edit.restores));
      },
    },
    {
      title: `write rendered/${config.name}/bootstrap/ (template.yaml, parameters.json) from ${envFile}`,
      run: async () => {
        const updated = loadConfig(root, config.name);
        for (const [file, content] of renderStackFiles(updated)) writeAtomically(join(root, 'rendered', config.name, file), content);
      },
    },
    {
      title: deploy.title,
      destructive: true,
      run: async () => {
        const result = await runBootstrap(
          { root, env: config.name, yes: true, allowReplace: deploy.allowReplace, intervalMs: deps.intervalMs, timeoutMs: 3 * 60 * 60_000 },
          { clients, clientsIn: clientsInRegion(deps.clients, config), reporter: context.run.reporter, clock: deps.clock },
        );
        if (result.outcome !== 'deployed') throw new BootstrapError(`the bootstrap ended with "${result.outcome}" instead of deploying the change`);
        deploy.deployed?.();
      },
    },
  ];
}

export async function planRestoreDatabase(context: VerbContext, deps: RestoreDatabaseDeps = {}): Promise<Plan> {
  const { config, root, run } = context;
  const { reporter } = run;
  const text = context.values['to'];
  if (typeof text !== 'string') throw new UsageError('--to <time> is required (or --delete-old to remove the clusters kept by earlier restores)');
  const target = restoreTarget(text, new Date((deps.clock ?? realClock).now()));
  const clients = clientsOf(config, deps);
  const stack = stackNameOf(config);

  const caller = await checkAccount(clients.sts, config);
  reporter.info(`✓ credentials are for account ${caller.account}`);
  const current = auroraLogicalIds(activeAuroraGeneration(config));
  const sourceId = await stackClusterIdentifier(clients.cfn, stack, current.cluster);
  reporter.info(`Reading the restorable window of ${current.cluster} (${sourceId})…`);
  const source = await describeCluster(clients.rds, sourceId);
  const window = checkInWindow(source, target, text);
  reporter.info(`✓ ${text} is inside the window ${window.earliest.toISOString()} to ${window.latest.toISOString()}`);

  const generation = activeAuroraGeneration(config) + 1;
  const next = auroraLogicalIds(generation);
  // Written in UTC: CloudFormation's RestoreToTime takes no offset.
  const entry: Restore = { generation, restoreToTime: utcTimestamp(target), sourceClusterIdentifier: sourceId, keepSource: true };
  const instances = [next.writer, ...Array.from({ length: config.aurora.readers }, (_, index) => next.reader(index + 1))];
  const kept = auroraGenerationsInStack(config).filter((held) => held.generation !== activeAuroraGeneration(config));
  const envFile = `environments/${config.name}.yaml`;
  const outputsFile = `environments/${config.name}.outputs.yaml`;
  const consequences = [
    `a new cluster ${next.cluster} (${instances.join(', ')}) is restored from ${sourceId} as it was at ${target.toISOString()}; RDS takes from minutes to hours, depending on the data`,
    `the stack outputs switch to it (endpoint, reader endpoint, a new managed master secret): the apps use it once the re-render is merged and Argo CD syncs; what they write to ${sourceId} until then is not in the restored data`,
    `${current.cluster} (${sourceId}) stays in the stack, and costs, until: npm run ops -- restore-database --env ${config.name} --delete-old`,
  ];
  if (kept.length > 0) consequences.push(`the stack also still keeps ${kept.map((held) => auroraLogicalIds(held.generation).cluster).join(', ')} from earlier restores`);

  let restoredId: string | undefined;
  return {
    summary: `restore ${stack}'s Aurora to ${text} into ${next.cluster} (from ${current.cluster}, which is kept)`,
    consequences,
    steps: [
      ...deploySteps(
        context,
        deps,
        clients,
        { title: `add restore generation ${generation} (to ${entry.restoreToTime}, from ${sourceId}) to ${envFile} (aurora.restores)`, restores: [...config.aurora.restores, entry] },
        { title: `deploy ${stack}: add ${next.cluster} and ${instances.join(', ')}, switch the Aurora outputs to it, write ${outputsFile} (with npm run bootstrap's checks)`, allowReplace: [] },
      ),
      {
        title: `wait until ${next.cluster} is available`,
        run: async () => {
          restoredId = await stackClusterIdentifier(clients.cfn, stack, next.cluster);
          const cluster = await pollUntil(
            `${next.cluster} to be available`,
            async () => {
              const now = await describeCluster(clients.rds, restoredId!);
              return { done: now.Status === 'available' ? now : undefined, state: `${restoredId} ${now.Status ?? 'unknown'}` };
            },
            { timeoutMs: 3 * 60 * 60_000, intervalMs: deps.intervalMs ?? 30_000, clock: deps.clock },
          );
          reporter.info(`  ${restoredId}: ${cluster.Status}, endpoint ${cluster.Endpoint ?? '?'}`);
        },
      },
      {
        title: `check ${outputsFile} names ${next.cluster}'s endpoint and master secret`,
        run: async () => {
          const cluster = await describeCluster(clients.rds, restoredId!);
          const written = (parse(readFileSync(join(root, outputsFile), 'utf8')) as { aurora?: { endpoint?: string; masterUserSecretArn?: string } }).aurora;
          const want = { endpoint: cluster.Endpoint, masterUserSecretArn: cluster.MasterUserSecret?.SecretArn };
          if (written?.endpoint !== want.endpoint || written?.masterUserSecretArn !== want.masterUserSecretArn) {
            throw new BootstrapError(
              `${outputsFile} has endpoint ${written?.endpoint ?? '(none)'} and secret ${written?.masterUserSecretArn ?? '(none)'}, but ${next.cluster} is ${want.endpoint ?? '?'} with secret ${want.masterUserSecretArn ?? '?'}`,
              `run npm run bootstrap -- --env ${config.name} once the stack is settled, so the outputs file is written again`,
            );
          }
          reporter.info(`  ✓ ${outputsFile}: ${want.endpoint}`);
        },
      },
    ],
  };
}

export async function planDeleteOld(context: VerbContext, deps: RestoreDatabaseDeps = {}): Promise<Plan | undefined> {
  const { config, run } = context;
  const { reporter } = run;
  const clients = clientsOf(config, deps);
  const stack = stackNameOf(config);
  const active = activeAuroraGeneration(config);
  const old = auroraGenerationsInStack(config).filter((held) => held.generation !== active);
  if (old.length === 0) {
    reporter.info(`✓ ${stack} keeps no Aurora cluster from an earlier restore; nothing to delete`);
    return undefined;
  }
  const caller = await checkAccount(clients.sts, config);
  reporter.info(`✓ credentials are for account ${caller.account}`);
  const clusters = await Promise.all(
    old.map(async ({ generation }) => {
      const logicalId = auroraLogicalIds(generation).cluster;
      const identifier = await stackClusterIdentifier(clients.cfn, stack, logicalId);
      return { logicalId, identifier, protected: (await describeCluster(clients.rds, identifier)).DeletionProtection === true };
    }),
  );
  const names = clusters.map((cluster) => `${cluster.logicalId} (${cluster.identifier})`).join(', ');
  const setProtection = (identifier: string, on: boolean) => clients.rds.send(new ModifyDBClusterCommand({ DBClusterIdentifier: identifier, DeletionProtection: on, ApplyImmediately: true }));
  let deployed = false;
  const unprotect: Step[] = clusters
    .filter((cluster) => cluster.protected)
    .map((cluster) => ({
      title: `turn off deletion protection of ${cluster.identifier} (only this cluster; CloudFormation deletes it next)`,
      destructive: true,
      run: async () => {
        await setProtection(cluster.identifier, false);
      },
    }));
  // A failed deploy must not leave a cluster unprotected: the stack still holds it.
  const reprotect: Step[] = clusters
    .filter((cluster) => cluster.protected)
    .map((cluster) => ({
      title: `unless the deploy completed: turn deletion protection of ${cluster.identifier} back on`,
      run: async () => {
        if (deployed) return;
        await setProtection(cluster.identifier, true);
        reporter.info(`  deletion protection of ${cluster.identifier} is on again`);
      },
    }));
  return {
    summary: `delete ${names} from ${stack}, after a final snapshot each; ${auroraLogicalIds(active).cluster} stays`,
    consequences: [
      `the way back to the data before the restore is then only the final snapshot${clusters.length > 1 ? 's' : ''} (rds:… final snapshot, named by CloudFormation), not a running cluster`,
      'the final snapshot takes minutes; the deletion follows it',
    ],
    steps: [
      ...unprotect,
      ...deploySteps(
        context,
        deps,
        clients,
        { title: `set keepSource: false on every entry of aurora.restores in environments/${config.name}.yaml`, restores: config.aurora.restores.map((entry) => ({ ...entry, keepSource: false })) },
        {
          title: `deploy ${stack}: delete ${clusters.map((cluster) => cluster.logicalId).join(', ')} and their instances (allowed for exactly these; with npm run bootstrap's checks)`,
          allowReplace: clusters.map((cluster) => cluster.logicalId),
          deployed: () => void (deployed = true),
        },
      ),
    ],
    finally: reprotect,
  };
}

export function restoreDatabaseVerb(deps: RestoreDatabaseDeps = {}): Verb {
  return {
    name: 'restore-database',
    summary: 'Restore Aurora to a point in time into a new cluster the outputs switch to (the old one is kept until --delete-old)',
    usage: '--to <RFC 3339 time> | --delete-old',
    options: { to: { type: 'string' }, 'delete-old': { type: 'boolean', default: false } },
    async run(context) {
      const deleteOld = context.values['delete-old'] === true;
      if (deleteOld && context.values['to'] !== undefined) throw new UsageError('--to and --delete-old are separate runs: first restore, check the data, then delete the old cluster');
      const plan = deleteOld ? await planDeleteOld(context, deps) : await planRestoreDatabase(context, deps);
      if (!plan) return EXIT.ok;
      const code = await executePlan(plan, context.run);
      if (code === EXIT.ok && !context.run.dryRun) {
        const what = deleteOld ? 'delete the Aurora cluster kept by the last restore' : `restore Aurora to ${String(context.values['to'])}`;
        context.run.reporter.info(pullRequestCommands(context.config.name, 'restore-database', what));
      }
      return code;
    },
  };
}

export const restoreDatabase = restoreDatabaseVerb();
