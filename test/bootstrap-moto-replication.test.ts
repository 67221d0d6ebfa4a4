/**
 * Cross-region replication (backups.replication) deployed by the real
 * bootstrap code against moto_server on 127.0.0.1, in two regions: prod's
 * replica stack in me-south-1 first, then its main stack in me-central-1
 * with the replica key's ARN; dev deploys with neither. What moto does not
 * emulate (it drops a stack bucket's versioning and replication, and copies
 * no objects) is gap 14 of test/support/moto-gaps.ts, and is shown here as
 * such rather than assumed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DescribeStacksCommand, ListStackResourcesCommand } from '@aws-sdk/client-cloudformation';
import { DescribeKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import {
  GetBucketLocationCommand,
  GetBucketReplicationCommand,
  ListObjectVersionsCommand,
  PutBucketReplicationCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  type ReplicationRule,
} from '@aws-sdk/client-s3';
import { runBootstrap, type BootstrapDeps } from '../bootstrap/scripts/bootstrap.js';
import { awsClients, type AwsClients } from '../bootstrap/lib/aws-clients.js';
import { loadConfig } from '../bootstrap/lib/environment.js';
import { bucketName, replicaBucketName, replicaStackName, type BucketKey } from '../bootstrap/names.js';
import { replicaTemplate } from '../bootstrap/template/replica.js';
import { bootstrapTemplate } from '../bootstrap/template/stack.js';
import { DATA_BUCKETS } from '../bootstrap/template/storage.js';
import { ensurePythonTools, REPO_ROOT, TOOL_INSTALL_TIMEOUT_MS } from '../bootstrap/tools/python-tools.js';
import { startMoto, type MotoServer } from './support/moto-server.js';
import { actAsAccount, bridgeMotoGaps, holdBucketPolicies } from './support/moto-gaps.js';
import { motoQuery } from './support/moto-query.js';
import { scratchRepository } from './support/scratch-repo.js';

const prod = loadConfig(REPO_ROOT, 'prod');
const dev = loadConfig(REPO_ROOT, 'dev');
const REPLICA_REGION = prod.backups.replication!.region;
const REPLICATED: BucketKey[] = ['etcdSnapshots', 'longhornBackups', 'attachments'];
const CREDENTIALS = { accessKeyId: 'AKIAMOTOTEST', secretAccessKey: 'moto' };

let moto: MotoServer;
const scratch: { root: string; remove(): void }[] = [];

function regionClients(region: string, account: string): AwsClients {
  const clients = awsClients({ region, endpoint: moto.endpoint, credentials: CREDENTIALS });
  actAsAccount([clients.cfn, clients.sts, clients.s3, clients.secrets, clients.ec2!] as never[], account);
  bridgeMotoGaps(clients.cfn, region, account, clients.s3);
  holdBucketPolicies(clients.s3);
  return clients;
}

function deps(region: string, account: string, lines: string[], regionsAsked: string[] = []): BootstrapDeps {
  return {
    clients: regionClients(region, account),
    clientsIn: (other) => (regionsAsked.push(other), regionClients(other, account)),
    reporter: { info: (line) => lines.push(line), warn: (line) => lines.push(line) },
  };
}

const kms = (region: string, account: string) => {
  const client = new KMSClient({ region, endpoint: moto.endpoint, credentials: CREDENTIALS });
  actAsAccount([client] as never[], account);
  return client;
};

beforeAll(async () => {
  ensurePythonTools();
  moto = await startMoto();
}, TOOL_INSTALL_TIMEOUT_MS);

afterAll(async () => {
  await moto?.stop();
  for (const repository of scratch) repository.remove();
});

describe('prod with credentials of another account', () => {
  it('creates nothing in either region', async () => {
    const repository = scratchRepository('prod');
    scratch.push(repository);
    const regionsAsked: string[] = [];
    const attempt = runBootstrap({ root: repository.root, env: 'prod', yes: true, allowReplace: [], intervalMs: 100, timeoutMs: 60_000 }, deps(prod.aws.region, '111122223333', [], regionsAsked));
    await expect(attempt).rejects.toThrow(/account 111122223333 .* but environments\/prod\.yaml sets aws\.accountId 210987654323; nothing was changed/);
    expect(regionsAsked).toEqual([]);
    const replica = regionClients(REPLICA_REGION, prod.aws.accountId);
    await expect(replica.cfn.send(new DescribeStacksCommand({ StackName: replicaStackName(prod) }))).rejects.toThrow(/does not exist/);
  }, 60_000);
});

describe('prod: the replica stack in the replica region, then the main stack replicating into it', () => {
  const account = prod.aws.accountId;
  const lines: string[] = [];
  const regionsAsked: string[] = [];
  let replicaKeyArn = '';

  beforeAll(async () => {
    const repository = scratchRepository('prod');
    scratch.push(repository);
    const result = await runBootstrap({ root: repository.root, env: 'prod', yes: true, allowReplace: [], intervalMs: 100, timeoutMs: 120_000 }, deps(prod.aws.region, account, lines, regionsAsked));
    expect(result.outcome).toBe('deployed');
  }, 240_000);

  it('deploys the replica stack first, in the replica region, with progress lines', () => {
    expect(regionsAsked).toEqual([REPLICA_REGION]);
    const replicaLine = lines.findIndex((line) => line.startsWith(`Replica stack ${replicaStackName(prod)} in ${REPLICA_REGION} (backups.replication), deployed first`));
    const mainChangeSet = lines.findIndex((line) => line === 'Creating a change set…');
    expect(replicaLine).toBeGreaterThanOrEqual(0);
    expect(mainChangeSet).toBeGreaterThan(replicaLine);
    expect(lines.some((line) => /^✓ dubai-prod-replica CREATE_COMPLETE$/.test(line))).toBe(true);
    const handed = lines.find((line) => line.startsWith('✓ replica key '));
    expect(handed).toMatch(new RegExp(`^✓ replica key arn:aws:kms:${REPLICA_REGION}:${account}:key/[0-9a-f-]{36} goes to prod's stack as parameter ReplicaKmsKeyArn$`));
    replicaKeyArn = /arn:aws:kms:\S+/.exec(handed!)![0];
  });

  it('creates the replica buckets in the replica region and the replica key there', async () => {
    const replica = regionClients(REPLICA_REGION, account);
    for (const key of REPLICATED) {
      const location = await replica.s3.send(new GetBucketLocationCommand({ Bucket: replicaBucketName(prod, key) }));
      expect(location.LocationConstraint, key).toBe(REPLICA_REGION);
    }
    const described = await kms(REPLICA_REGION, account).send(new DescribeKeyCommand({ KeyId: replicaKeyArn }));
    expect(described.KeyMetadata?.Arn).toBe(replicaKeyArn);
    expect(described.KeyMetadata?.Description).toBe(replicaTemplate(prod)!.Resources['ReplicaKmsKey']!.Properties!['Description']);
    // Not in the main region.
    await expect(kms(prod.aws.region, account).send(new DescribeKeyCommand({ KeyId: replicaKeyArn }))).rejects.toThrow();
  });

  it('passes the replica key to the main stack, whose replication role is limited to exactly those buckets and keys', async () => {
    const main = regionClients(prod.aws.region, account);
    const stack = (await main.cfn.send(new DescribeStacksCommand({ StackName: 'dubai-prod' }))).Stacks![0]!;
    expect(stack.Parameters).toEqual(expect.arrayContaining([{ ParameterKey: 'ReplicaKmsKeyArn', ParameterValue: replicaKeyArn }]));
    const xml = await motoQuery(moto.endpoint, 'iam', { Action: 'GetRolePolicy', RoleName: 'dubai-prod-s3-replication', PolicyName: 's3-replication', Version: '2010-05-08' }, account);
    // moto answers a policy made by CloudFormation as a Python dict literal (single quotes); its ARNs and actions hold none.
    const policy = JSON.parse(/<PolicyDocument>([^<]*)<\/PolicyDocument>/.exec(xml)![1]!.replace(/'/g, '"')) as { Statement: { Sid: string; Resource: string[] }[] };
    const resources = Object.fromEntries(policy.Statement.map((statement) => [statement.Sid, [statement.Resource].flat().sort()]));
    const mainKey = (await main.cfn.send(new ListStackResourcesCommand({ StackName: 'dubai-prod' }))).StackResourceSummaries!.find((r) => r.LogicalResourceId === 'KmsKey')!.PhysicalResourceId!;
    expect(resources).toEqual({
      ReadReplicationConfiguration: REPLICATED.map((key) => `arn:aws:s3:::${bucketName(prod, key)}`).sort(),
      ReadSourceVersions: REPLICATED.map((key) => `arn:aws:s3:::${bucketName(prod, key)}/*`).sort(),
      WriteReplicas: REPLICATED.map((key) => `arn:aws:s3:::${replicaBucketName(prod, key)}/*`).sort(),
      DecryptSourceObjects: [expect.stringContaining(mainKey)],
      EncryptReplicas: [replicaKeyArn],
    });
  });

  it("moto drops the stack buckets' versioning and replication (gap 14); the template's rule, applied through S3, names the replica and its key", async () => {
    const main = regionClients(prod.aws.region, account);
    const replica = regionClients(REPLICA_REGION, account);
    const template = bootstrapTemplate(prod);
    const roleXml = await motoQuery(moto.endpoint, 'iam', { Action: 'GetRole', RoleName: 'dubai-prod-s3-replication', Version: '2010-05-08' }, account);
    const roleArn = /<Arn>([^<]*)<\/Arn>/.exec(roleXml)![1]!;
    for (const key of REPLICATED) {
      const source = bucketName(prod, key);
      await expect(main.s3.send(new GetBucketReplicationCommand({ Bucket: source })), key).rejects.toMatchObject({ name: 'ReplicationConfigurationNotFoundError' });
      const rule = (template.Resources[DATA_BUCKETS[key as keyof typeof DATA_BUCKETS]]!.Properties!['ReplicationConfiguration'] as { Rules: Record<string, any>[] }).Rules[0]!;
      const applied: ReplicationRule = {
        ID: rule['Id'],
        Status: rule['Status'],
        Priority: rule['Priority'],
        Filter: { Prefix: '' },
        DeleteMarkerReplication: rule['DeleteMarkerReplication'],
        SourceSelectionCriteria: rule['SourceSelectionCriteria'],
        Destination: { Bucket: `arn:aws:s3:::${replicaBucketName(prod, key)}`, StorageClass: rule['Destination'].StorageClass, EncryptionConfiguration: { ReplicaKmsKeyID: replicaKeyArn } },
      };
      // Like S3, moto refuses replication from a bucket without versioning: the template sets it, moto's handler drops it.
      await expect(main.s3.send(new PutBucketReplicationCommand({ Bucket: source, ReplicationConfiguration: { Role: roleArn, Rules: [applied] } }))).rejects.toMatchObject({ name: 'InvalidRequest' });
      expect(template.Resources[DATA_BUCKETS[key as keyof typeof DATA_BUCKETS]]!.Properties!['VersioningConfiguration']).toEqual({ Status: 'Enabled' });
      await main.s3.send(new PutBucketVersioningCommand({ Bucket: source, VersioningConfiguration: { Status: 'Enabled' } }));
      await replica.s3.send(new PutBucketVersioningCommand({ Bucket: replicaBucketName(prod, key), VersioningConfiguration: { Status: 'Enabled' } }));
      await main.s3.send(new PutBucketReplicationCommand({ Bucket: source, ReplicationConfiguration: { Role: roleArn, Rules: [applied] } }));
      const read = await main.s3.send(new GetBucketReplicationCommand({ Bucket: source }));
      expect(read.ReplicationConfiguration?.Role).toBe(roleArn);
      expect(read.ReplicationConfiguration?.Rules?.[0]).toMatchObject({ ID: `to-${REPLICA_REGION}`, Status: 'Enabled', Destination: { Bucket: `arn:aws:s3:::${replicaBucketName(prod, key)}`, StorageClass: 'STANDARD_IA', EncryptionConfiguration: { ReplicaKmsKeyID: replicaKeyArn } } });
    }
  });

  it('moto copies no object into the replica (no replication engine, gap 14): arrival is not proven here', async () => {
    const main = regionClients(prod.aws.region, account);
    const replica = regionClients(REPLICA_REGION, account);
    await main.s3.send(new PutObjectCommand({ Bucket: bucketName(prod, 'etcdSnapshots'), Key: 'etcd/etcd-snapshot-moto', Body: 'snapshot' }));
    const source = await main.s3.send(new ListObjectVersionsCommand({ Bucket: bucketName(prod, 'etcdSnapshots') }));
    expect(source.Versions?.map((version) => version.Key)).toEqual(['etcd/etcd-snapshot-moto']);
    const copies = await replica.s3.send(new ListObjectVersionsCommand({ Bucket: replicaBucketName(prod, 'etcdSnapshots') }));
    expect(copies.Versions ?? []).toEqual([]);
  });
});

describe('dev: no replica stack and no replication', () => {
  it('deploys one stack, asks for no other region, and creates no replication role or replica bucket', async () => {
    const repository = scratchRepository('dev');
    scratch.push(repository);
    const lines: string[] = [];
    const regionsAsked: string[] = [];
    const d = deps(dev.aws.region, dev.aws.accountId, lines, regionsAsked);
    const result = await runBootstrap({ root: repository.root, env: 'dev', yes: true, allowReplace: [], intervalMs: 100, timeoutMs: 120_000 }, d);
    expect(result.outcome).toBe('deployed');
    expect(regionsAsked).toEqual([]);
    expect(lines.some((line) => /Replica stack|replica key/.test(line))).toBe(false);
    const resources = (await d.clients.cfn.send(new ListStackResourcesCommand({ StackName: 'dubai-dev' }))).StackResourceSummaries ?? [];
    expect(resources.length).toBeGreaterThan(20);
    expect(resources.filter((r) => /Replica|Replication/.test(r.LogicalResourceId ?? ''))).toEqual([]);
    await expect(d.clients.cfn.send(new DescribeStacksCommand({ StackName: 'dubai-dev-replica' }))).rejects.toThrow(/does not exist/);
    await expect(d.clients.s3.send(new GetBucketReplicationCommand({ Bucket: bucketName(dev, 'etcdSnapshots') }))).rejects.toMatchObject({ name: 'ReplicationConfigurationNotFoundError' });
    const roles = await motoQuery(moto.endpoint, 'iam', { Action: 'ListRoles', Version: '2010-05-08' }, dev.aws.accountId);
    expect(roles).not.toMatch(/s3-replication/);
  }, 180_000);
});
