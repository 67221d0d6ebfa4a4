/**
 * recover-cluster end to end on moto_server: the dev stack created by the real
 * bootstrap, etcd snapshots in its etcd bucket (as K3s writes them, with its
 * metadata sub-folder), the only server terminated; the verb picks the newest
 * snapshot (or --snapshot), refuses what it must, and re-creates the server
 * with cluster.etcdRestore rendered into its user data. moto does not boot
 * user data: the node side of the restore runs in test/node-roles.test.ts.
 * What moto cannot create is bridged as in test/support/moto-gaps.ts.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ListStackResourcesCommand } from '@aws-sdk/client-cloudformation';
import { DescribeInstancesCommand, TerminateInstancesCommand } from '@aws-sdk/client-ec2';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { awsClients, type AwsClients } from '../bootstrap/lib/aws-clients.js';
import { loadConfig } from '../bootstrap/lib/environment.js';
import { bucketName } from '../bootstrap/names.js';
import { runBootstrap } from '../bootstrap/scripts/bootstrap.js';
import { userDataScript } from '../bootstrap/template/user-data.js';
import { ensurePythonTools, REPO_ROOT, TOOL_INSTALL_TIMEOUT_MS } from '../bootstrap/tools/python-tools.js';
import { main } from '../ops/cli.js';
import { EXIT } from '../ops/plan.js';
import { recoverClusterVerb } from '../ops/verbs/recover-cluster.js';
import { startMoto, type MotoServer } from './support/moto-server.js';
import { actAsAccount, bridgeMotoGaps, holdBucketPolicies } from './support/moto-gaps.js';
import { scratchRepository } from './support/scratch-repo.js';

const ENV = 'dev';
const STACK = 'dubai-dev';
const config = loadConfig(REPO_ROOT, ENV);
const BUCKET = bucketName(config, 'etcdSnapshots');
const OLDER = 'etcd-snapshot-k3s-dev-1764590400';
const NEWEST = 'etcd-snapshot-k3s-dev-1764612000';

let moto: MotoServer;
let root: string;
let removeScratch: () => void;

function clients(): AwsClients {
  const made = awsClients({ region: config.aws.region, endpoint: moto.endpoint, credentials: { accessKeyId: 'AKIAMOTOTEST', secretAccessKey: 'moto' } });
  actAsAccount([made.cfn, made.sts, made.s3, made.secrets, made.ec2!] as never[], config.aws.accountId);
  bridgeMotoGaps(made.cfn, config.aws.region, config.aws.accountId, made.s3);
  holdBucketPolicies(made.s3);
  return made;
}

async function ops(argv: string[], answer = false) {
  const lines: string[] = [];
  let err = '';
  const code = await main([...argv, '--root', root], {
    verbs: [recoverClusterVerb({ clients, intervalMs: 100 })],
    reporter: { info: (line) => lines.push(line), warn: (line) => lines.push(`WARN ${line}`) },
    confirmer: () => ({ confirm: async () => answer }),
    stdout: () => undefined,
    stderr: (text) => (err += text),
  });
  return { code, lines, err };
}

const quiet = { info: () => undefined, warn: () => undefined };
const bootstrapOptions = () => ({ root, env: ENV, yes: true, allowReplace: [], intervalMs: 100, timeoutMs: 120_000 });
const envFile = () => readFileSync(join(root, 'environments', `${ENV}.yaml`), 'utf8');

async function resources(made: AwsClients): Promise<Map<string, string>> {
  const listed = await made.cfn.send(new ListStackResourcesCommand({ StackName: STACK }));
  return new Map((listed.StackResourceSummaries ?? []).map((resource) => [resource.LogicalResourceId!, resource.PhysicalResourceId ?? '']));
}

beforeAll(async () => {
  ensurePythonTools();
  moto = await startMoto();
  ({ root, remove: removeScratch } = scratchRepository(ENV));
  expect((await runBootstrap(bootstrapOptions(), { clients: clients(), reporter: quiet })).outcome).toBe('deployed');
}, TOOL_INSTALL_TIMEOUT_MS);

afterAll(async () => {
  await moto?.stop();
  removeScratch?.();
});

describe('recover-cluster against moto_server', () => {
  it('refuses while the server still has its instance', async () => {
    const result = await ops(['recover-cluster', '--env', ENV]);
    expect(result.code).toBe(EXIT.failed);
    expect(result.err).toMatch(/server 1 still has its instance: recover-cluster starts over from a snapshot only when no server is left/);
    expect(result.err).toMatch(/fix: to roll a running node back to a snapshot, terminate its instance first/);
  }, 60_000);

  it('refuses when the etcd bucket holds no snapshot', async () => {
    const made = clients();
    const instance = (await resources(made)).get('NodeInstance')!;
    await made.ec2!.send(new TerminateInstancesCommand({ InstanceIds: [instance] }));
    const result = await ops(['recover-cluster', '--env', ENV]);
    expect(result.code).toBe(EXIT.failed);
    expect(result.err).toContain(`there is no etcd snapshot in s3://${BUCKET}/etcd/ to restore`);
  }, 60_000);

  it('refuses an unknown --snapshot, listing the newest (K3s metadata is not a snapshot)', async () => {
    const s3 = clients().s3;
    for (const name of [OLDER, NEWEST]) await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: `etcd/${name}`, Body: `snapshot ${name}` }));
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: `etcd/.metadata/${NEWEST}`, Body: '{}' }));
    const result = await ops(['recover-cluster', '--env', ENV, '--snapshot', 'etcd-snapshot-k3s-dev-1']);
    expect(result.code).toBe(EXIT.failed);
    expect(result.err).toMatch(new RegExp(`there is no etcd snapshot "etcd-snapshot-k3s-dev-1" in s3://${BUCKET}/etcd/; the newest are:\\n {2}${NEWEST} .*\\n {2}${OLDER} `));
    expect(result.err).not.toContain('.metadata');
  }, 60_000);

  it('on --dry-run picks the newest snapshot and prints the plan, changing nothing', async () => {
    const before = envFile();
    const result = await ops(['recover-cluster', '--env', ENV, '--dry-run']);
    expect(result.err).toBe('');
    expect(result.code).toBe(EXIT.ok);
    expect(result.lines).toEqual(
      expect.arrayContaining([
        expect.stringMatching(new RegExp(`^ {2}${NEWEST} .* {3}← restoring this one$`)),
        `restore dubai-dev's cluster from etcd snapshot ${NEWEST} on a new server 1`,
        expect.stringMatching(/^ {2}! the cluster comes back as it was at .*; what changed in Kubernetes since is lost/),
        `  1. set server 1 to generation 2 and cluster.etcdRestore to ${NEWEST} in environments/dev.yaml`,
        "  3. deploy dubai-dev: add NodeInstanceG2 and NodeDataVolumeAttachmentG2, remove NodeInstance (with npm run bootstrap's checks)  [destructive]",
        'dry run: nothing was changed',
      ]),
    );
    expect(envFile()).toBe(before);
  }, 60_000);

  it('re-creates the server from --snapshot with the restore in its user data; the next bootstrap has no changes', async () => {
    const result = await ops(['recover-cluster', '--env', ENV, '--snapshot', OLDER, '--yes']);
    expect(result.lines.filter((line) => line.startsWith('WARN'))).toEqual([]);
    expect(result.code).toBe(EXIT.ok);
    expect(loadConfig(root, ENV).cluster).toMatchObject({ serverGenerations: [{ server: 1, generation: 2 }], etcdRestore: { snapshot: OLDER, generation: 2 } });

    const template = parse(readFileSync(join(root, 'rendered', ENV, 'bootstrap', 'template.yaml'), 'utf8')) as { Resources: Record<string, { Properties: { UserData: unknown } }> };
    expect(userDataScript(template.Resources['NodeInstanceG2']!.Properties.UserData)).toContain(`readonly ETCD_RESTORE_SNAPSHOT='${OLDER}'`);

    const made = clients();
    const replacement = (await resources(made)).get('NodeInstanceG2')!;
    const described = await made.ec2!.send(new DescribeInstancesCommand({ InstanceIds: [replacement] }));
    expect(described.Reservations?.[0]?.Instances?.[0]?.State?.Name).toBe('running');
    expect((await runBootstrap(bootstrapOptions(), { clients: made, reporter: quiet })).outcome).toBe('no-changes');
  }, 240_000);
});
