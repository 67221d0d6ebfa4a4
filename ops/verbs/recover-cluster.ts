/**
 * npm run ops -- recover-cluster --env NAME [--snapshot NAME]
 *
 * Every server is gone (or the only one of a one-node environment): there is
 * no etcd left to join. This re-creates the first server under its next
 * generation with cluster.etcdRestore naming an etcd snapshot from the etcd
 * bucket (the latest, or --snapshot): its user data starts K3s, then resets
 * the cluster from that snapshot once (--cluster-reset
 * --cluster-reset-restore-path, with the etcd S3 settings of its K3s
 * configuration) and joins it with the K3s token from Secrets Manager. The
 * other servers are then re-created one per run with recover-node and join
 * the restored server, so the stack never replaces more servers at once than
 * etcd can lose.
 */
import { ListObjectsV2Command, type S3Client, type _Object } from '@aws-sdk/client-s3';
import { parseDocument } from 'yaml';
import type { EnvConfig } from '../../generator/config/schema.js';
import { checkAccount } from '../../bootstrap/lib/account-guard.js';
import { awsClients } from '../../bootstrap/lib/aws-clients.js';
import { BootstrapError } from '../../bootstrap/lib/errors.js';
import { describeServer, isLost, serverStates } from '../../bootstrap/lib/server-health.js';
import { bucketName, ETCD_SNAPSHOT_FOLDER, serverLogicalIds, stackName as stackNameOf } from '../../bootstrap/names.js';
import { EXIT, executePlan, type Plan } from '../plan.js';
import type { Verb, VerbContext } from '../verb.js';
import { pullRequestCommands, replaceServerSteps, withServerGeneration, type RecoverNodeDeps } from './recover-node.js';

export interface EtcdSnapshot {
  /** The name K3s restores by (the object's name in the etcd folder). */
  name: string;
  key: string;
  lastModified: Date;
  size: number;
}

/** The snapshots in the etcd folder, newest first (K3s keeps its metadata in a sub-folder, which is skipped). */
export async function listEtcdSnapshots(s3: S3Client, bucket: string): Promise<EtcdSnapshot[]> {
  const prefix = `${ETCD_SNAPSHOT_FOLDER}/`;
  const objects: _Object[] = [];
  let ContinuationToken: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken }));
    objects.push(...(page.Contents ?? []));
    ContinuationToken = page.NextContinuationToken;
  } while (ContinuationToken);
  return objects
    .filter((object) => object.Key && !object.Key.slice(prefix.length).includes('/') && object.Key.length > prefix.length)
    .map((object) => ({ name: object.Key!.slice(prefix.length), key: object.Key!, lastModified: object.LastModified ?? new Date(0), size: object.Size ?? 0 }))
    .sort((a, b) => b.lastModified.getTime() - a.lastModified.getTime() || (a.name < b.name ? 1 : a.name > b.name ? -1 : 0));
}

/** The environment file with server 1 at `generation` restoring `snapshot`, comments and layout kept. */
export function withEtcdRestore(text: string, config: EnvConfig, snapshot: string, generation: number): string {
  const document = parseDocument(withServerGeneration(text, config, 1, generation));
  document.setIn(['cluster', 'etcdRestore'], document.createNode({ snapshot, generation }));
  return document.toString();
}

export async function planRecoverCluster(context: VerbContext, deps: RecoverNodeDeps = {}): Promise<Plan> {
  const { config, run } = context;
  const { reporter } = run;
  const clients = (deps.clients ?? ((c: EnvConfig) => awsClients({ region: c.aws.region })))(config);
  if (!clients.ec2) throw new Error('recover-cluster needs an EC2 client');
  const stack = stackNameOf(config);
  const bucket = bucketName(config, 'etcdSnapshots');

  const caller = await checkAccount(clients.sts, config);
  reporter.info(`✓ credentials are for account ${caller.account}`);
  reporter.info(`Looking at the servers of stack ${stack}…`);
  const states = await serverStates({ cfn: clients.cfn, ec2: clients.ec2 }, stack, config);
  for (const state of states) reporter.info(`  ${describeServer(state)}`);
  const running = states.filter((state) => !isLost(state));
  if (running.length > 0) {
    throw new BootstrapError(
      `${running.map((state) => `server ${state.server}`).join(', ')} still ${running.length === 1 ? 'has its instance' : 'have their instances'}: recover-cluster starts over from a snapshot only when no server is left`,
      config.cluster.servers === 1
        ? 'to roll a running node back to a snapshot, terminate its instance first (after checking the snapshot), then run recover-cluster again'
        : 'while servers with etcd remain, re-create the lost ones with recover-node; without quorum, restore on a remaining server (docs/high-availability.md, "Replacing a failed server", step 4)',
    );
  }

  reporter.info(`Listing etcd snapshots in s3://${bucket}/${ETCD_SNAPSHOT_FOLDER}/…`);
  const snapshots = await listEtcdSnapshots(clients.s3, bucket);
  const newest = snapshots.slice(0, 5).map((snapshot) => `  ${snapshot.name}  ${snapshot.lastModified.toISOString()}  ${snapshot.size} bytes`);
  const requested = context.values['snapshot'];
  const chosen = typeof requested === 'string' ? snapshots.find((snapshot) => snapshot.name === requested) : snapshots[0];
  if (!chosen) {
    throw new BootstrapError(
      snapshots.length === 0
        ? `there is no etcd snapshot in s3://${bucket}/${ETCD_SNAPSHOT_FOLDER}/ to restore`
        : [`there is no etcd snapshot "${String(requested)}" in s3://${bucket}/${ETCD_SNAPSHOT_FOLDER}/; the newest are:`, ...newest].join('\n'),
      snapshots.length === 0 ? 'without a snapshot, re-create the server with recover-node (a new, empty cluster that Argo CD fills from git)' : 'pass one of the names above with --snapshot, or leave --snapshot out for the newest',
    );
  }
  for (const line of newest) reporter.info(`${line}${line.includes(chosen.name) ? '   ← restoring this one' : ''}`);

  const first = states[0]!;
  const next = first.generation + 1;
  const consequences = [
    `the cluster comes back as it was at ${chosen.lastModified.toISOString()} (${chosen.name}); what changed in Kubernetes since is lost, and Argo CD re-syncs whatever git has since`,
    `server 1 gets generation ${next} (${first.logicalId} → ${serverLogicalIds(1, next).instance}) and restores etcd once, with the K3s token from Secrets Manager`,
  ];
  if (config.cluster.servers > 1) consequences.push(`then re-create servers 2-${config.cluster.servers} one per run: npm run ops -- recover-node --env ${config.name}; they join the restored server`);
  return {
    summary: `restore ${stack}'s cluster from etcd snapshot ${chosen.name} on a new server 1`,
    consequences,
    steps: replaceServerSteps(context, deps, clients, first, {
      title: `set server 1 to generation ${next} and cluster.etcdRestore to ${chosen.name} in environments/${config.name}.yaml`,
      edit: (text) => withEtcdRestore(text, config, chosen.name, next),
    }),
  };
}

export function recoverClusterVerb(deps: RecoverNodeDeps = {}): Verb {
  return {
    name: 'recover-cluster',
    summary: 'Start the cluster again from an etcd snapshot in S3 when no server is left (the others rejoin with recover-node)',
    usage: '[--snapshot NAME]',
    options: { snapshot: { type: 'string' } },
    async run(context) {
      const code = await executePlan(await planRecoverCluster(context, deps), context.run);
      if (code === EXIT.ok) context.run.reporter.info(pullRequestCommands(context.config.name, 'recover-cluster', 'restore the cluster from an etcd snapshot'));
      return code;
    },
  };
}

export const recoverCluster = recoverClusterVerb();
