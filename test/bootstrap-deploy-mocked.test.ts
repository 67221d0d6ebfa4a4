/**
 * What moto cannot produce, with aws-sdk-client-mock: a deployment that rolls
 * back, a change set that would replace the database, a stack that never
 * settles (waiter timeout), and the refusals around confirmation.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import {
  CreateChangeSetCommand,
  DeleteChangeSetCommand,
  DescribeChangeSetCommand,
  DescribeStackEventsCommand,
  DescribeStacksCommand,
  ExecuteChangeSetCommand,
  type Change,
  type StackEvent,
} from '@aws-sdk/client-cloudformation';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { runBootstrap, type BootstrapOptions } from '../bootstrap/scripts/bootstrap.js';
import { awsClients, type AwsClients } from '../bootstrap/lib/aws-clients.js';
import { BootstrapError } from '../bootstrap/lib/errors.js';
import type { Clock } from '../bootstrap/lib/polling.js';
import { outputsFileExists, scratchRepository } from './support/scratch-repo.js';

const ENV = 'dev';
const ACCOUNT = '210987654321';
const STACK = 'dubai-dev';

let scratch: ReturnType<typeof scratchRepository>;
let clients: AwsClients;
let cfn: ReturnType<typeof mockClient>;
let lines: string[];
let time: number;
const clock: Clock = { now: () => time, sleep: async (ms) => void (time += ms) };

const options = (extra: Partial<BootstrapOptions> = {}): BootstrapOptions => ({ root: scratch.root, env: ENV, yes: true, allowReplace: [], intervalMs: 1_000, timeoutMs: 60_000, ...extra });
const deps = (confirm?: (question: string) => Promise<boolean>) => ({ clients, reporter: { info: (l: string) => lines.push(l), warn: (l: string) => lines.push(l) }, clock, confirm });

const change = (logicalId: string, type: string, action: 'Add' | 'Modify' | 'Remove', replacement?: 'True' | 'False' | 'Conditional', property?: string): Change => ({
  Type: 'Resource',
  ResourceChange: {
    LogicalResourceId: logicalId,
    ResourceType: type,
    Action: action,
    Replacement: replacement,
    Details: property ? [{ Target: { Attribute: 'Properties', Name: property, RequiresRecreation: 'Always' } }] : [],
  },
});

const event = (id: string, logicalId: string, type: string, status: string, reason?: string): StackEvent => ({
  EventId: id,
  StackId: `arn:aws:cloudformation:me-central-1:${ACCOUNT}:stack/${STACK}/1`,
  StackName: STACK,
  LogicalResourceId: logicalId,
  ResourceType: type,
  ResourceStatus: status as StackEvent['ResourceStatus'],
  ResourceStatusReason: reason,
  Timestamp: new Date(time + 1_000),
});

/** An existing stack and a ready change set with these changes. */
function existingStackWith(changes: Change[]) {
  cfn.on(DescribeStacksCommand).resolves({ Stacks: [{ StackName: STACK, StackStatus: 'UPDATE_COMPLETE', CreationTime: new Date(0) }] });
  cfn.on(CreateChangeSetCommand).resolves({ Id: 'cs-arn' });
  cfn.on(DescribeChangeSetCommand).resolves({ Status: 'CREATE_COMPLETE', Changes: changes });
  cfn.on(DeleteChangeSetCommand).resolves({});
  cfn.on(ExecuteChangeSetCommand).resolves({});
}

beforeEach(() => {
  scratch = scratchRepository(ENV);
  clients = awsClients({ region: 'me-central-1', credentials: { accessKeyId: 'AKIAMOCK', secretAccessKey: 'mock' } });
  cfn = mockClient(clients.cfn);
  // Since workload identity every template is above the request limit: the bootstrap uploads it (S3 answered by the mock).
  mockClient(clients.s3).resolves({});
  mockClient(clients.sts).on(GetCallerIdentityCommand).resolves({ Account: ACCOUNT, Arn: `arn:aws:iam::${ACCOUNT}:user/ops` });
  lines = [];
  time = 1_800_000_000_000;
});
afterEach(() => scratch.remove());

describe('a deployment that rolls back', () => {
  it('names the resource that failed first and why, and writes no outputs file', async () => {
    existingStackWith([change('NodeInstance', 'AWS::EC2::Instance', 'Modify', 'False', 'InstanceType')]);
    // Events of an earlier operation (one of them a failure) are there before the execution and must not be blamed.
    const earlier = [event('e0b', STACK, 'AWS::CloudFormation::Stack', 'UPDATE_COMPLETE'), event('e0a', 'KmsKey', 'AWS::KMS::Key', 'UPDATE_FAILED', 'an old failure')];
    let polls = 0;
    cfn.on(DescribeStackEventsCommand).callsFake(() => {
      polls += 1;
      if (polls === 1) return { StackEvents: earlier };
      return {
        StackEvents: [
          event('e4', STACK, 'AWS::CloudFormation::Stack', 'UPDATE_ROLLBACK_COMPLETE'),
          event('e3', 'NodeRole', 'AWS::IAM::Role', 'UPDATE_FAILED', 'Resource update cancelled'),
          event('e2', 'NodeInstance', 'AWS::EC2::Instance', 'UPDATE_FAILED', 'The requested instance type t3.tiny is not supported'),
          event('e1', STACK, 'AWS::CloudFormation::Stack', 'UPDATE_IN_PROGRESS', 'User Initiated'),
          ...earlier,
        ],
      };
    });
    cfn.on(DescribeStacksCommand).resolvesOnce({ Stacks: [{ StackName: STACK, StackStatus: 'UPDATE_COMPLETE', CreationTime: new Date(0) }] }).resolves({ Stacks: [{ StackName: STACK, StackStatus: 'UPDATE_ROLLBACK_COMPLETE', CreationTime: new Date(0) }] });

    const attempt = runBootstrap(options(), deps());
    await expect(attempt).rejects.toBeInstanceOf(BootstrapError);
    await expect(attempt).rejects.toThrow(/ended in UPDATE_ROLLBACK_COMPLETE: NodeInstance \(AWS::EC2::Instance\) failed first: The requested instance type t3.tiny is not supported/);
    expect(polls).toBeGreaterThan(1);
    expect(lines.join('\n')).not.toContain('an old failure');
    expect(lines.some((line) => /UPDATE_FAILED +NodeInstance \(AWS::EC2::Instance\) +The requested instance type/.test(line))).toBe(true);
    expect(outputsFileExists(scratch.root, ENV)).toBe(false);
  });
});

describe('a change set that would replace the database', () => {
  const replaceAurora = [change('AuroraCluster', 'AWS::RDS::DBCluster', 'Modify', 'True', 'DatabaseName'), change('NodeRole', 'AWS::IAM::Role', 'Modify', 'False', 'Policies')];

  it('is refused and deleted, and nothing is executed', async () => {
    existingStackWith(replaceAurora);
    const attempt = runBootstrap(options(), deps());
    await expect(attempt).rejects.toThrow(/refusing to replace or delete resources that hold data:\n {2}AuroraCluster: the Aurora cluster would be REPLACED \(because of DatabaseName\)/);
    await expect(attempt).rejects.toMatchObject({ fix: expect.stringContaining('--allow-replace AuroraCluster') });
    expect(cfn.commandCalls(DeleteChangeSetCommand)).toHaveLength(1);
    expect(cfn.commandCalls(ExecuteChangeSetCommand)).toHaveLength(0);
    expect(lines.some((line) => /~ Modify AuroraCluster +AWS::RDS::DBCluster +\(REPLACES the resource; DatabaseName\)/.test(line))).toBe(true);
  });

  it('refuses deleting a bucket or a secret just the same', async () => {
    existingStackWith([change('AttachmentsBucket', 'AWS::S3::Bucket', 'Remove'), change('SecretProvidersOpenai', 'AWS::SecretsManager::Secret', 'Remove')]);
    await expect(runBootstrap(options({ allowReplace: ['AttachmentsBucket'] }), deps())).rejects.toThrow(/SecretProvidersOpenai: a Secrets Manager secret would be DELETED/);
    expect(cfn.commandCalls(ExecuteChangeSetCommand)).toHaveLength(0);
  });

  it('goes ahead when the operator names the resource with --allow-replace', async () => {
    existingStackWith(replaceAurora);
    cfn.on(DescribeStackEventsCommand).resolves({ StackEvents: [] });
    cfn.on(DescribeStacksCommand).resolvesOnce({ Stacks: [{ StackName: STACK, StackStatus: 'UPDATE_COMPLETE', CreationTime: new Date(0) }] }).resolves({
      Stacks: [
        {
          StackName: STACK,
          StackStatus: 'UPDATE_COMPLETE',
          CreationTime: new Date(0),
          Outputs: [
            ['AuroraEndpoint', 'dubai-dev.cluster-new.me-central-1.rds.amazonaws.com'],
            ['AuroraPort', '5432'],
            ['AuroraMasterUserSecretArn', `arn:aws:secretsmanager:me-central-1:${ACCOUNT}:secret:rds!cluster-new`],
            ['AttachmentsBucket', 'dubai-dev-attachments-210987654321'],
            ['LonghornBackupsBucket', 'dubai-dev-longhorn-backups-210987654321'],
            ['EtcdSnapshotsBucket', 'dubai-dev-etcd-snapshots-210987654321'],
            ['KubeconfigBucket', 'dubai-dev-kubeconfig-210987654321'],
            ['ExternalSecretsRoleArn', 'arn:aws:iam::210987654321:role/dubai-dev-external-secrets'],
            ['LonghornRoleArn', 'arn:aws:iam::210987654321:role/dubai-dev-longhorn'],
            ['OpenWebUIRoleArn', 'arn:aws:iam::210987654321:role/dubai-dev-open-webui'],
          ].map(([OutputKey, OutputValue]) => ({ OutputKey, OutputValue })),
        },
      ],
    });
    const result = await runBootstrap(options({ allowReplace: ['AuroraCluster'] }), deps());
    expect(result.outcome).toBe('deployed');
    expect(cfn.commandCalls(ExecuteChangeSetCommand)).toHaveLength(1);
    expect(lines).toContain('! AuroraCluster will be replaced (allowed with --allow-replace)');
    expect(outputsFileExists(scratch.root, ENV)).toBe(true);
  });
});

describe('a stack that never settles', () => {
  it('stops waiting at the timeout and says how to follow up', async () => {
    existingStackWith([change('NodeInstance', 'AWS::EC2::Instance', 'Modify', 'False', 'UserData')]);
    cfn.on(DescribeStackEventsCommand).resolves({ StackEvents: [] });
    cfn.on(DescribeStacksCommand).resolvesOnce({ Stacks: [{ StackName: STACK, StackStatus: 'UPDATE_COMPLETE', CreationTime: new Date(0) }] }).resolves({ Stacks: [{ StackName: STACK, StackStatus: 'UPDATE_IN_PROGRESS', CreationTime: new Date(0) }] });
    const attempt = runBootstrap(options({ timeoutMs: 30 * 60_000, intervalMs: 60_000 }), deps());
    await expect(attempt).rejects.toThrow(/stack dubai-dev was still UPDATE_IN_PROGRESS after 30 minutes; CloudFormation carries on without this script/);
    await expect(attempt).rejects.toMatchObject({ fix: expect.stringContaining('aws cloudformation describe-stack-events --stack-name dubai-dev') });
    expect(lines).toContain('! the K3s node may be stopped and started by this change');
  });

  it('gives up on a change set that never becomes ready', async () => {
    existingStackWith([]);
    cfn.on(DescribeChangeSetCommand).resolves({ Status: 'CREATE_IN_PROGRESS' });
    await expect(runBootstrap(options(), deps())).rejects.toThrow(/gave up waiting for change set bootstrap-\d+ after 300 s; last state: CREATE_IN_PROGRESS/);
  });
});

describe('confirmation and stack state', () => {
  it('deletes the change set when the operator says no', async () => {
    existingStackWith([change('NodeRole', 'AWS::IAM::Role', 'Modify', 'False', 'Policies')]);
    const questions: string[] = [];
    const result = await runBootstrap(options({ yes: false }), deps(async (question) => (questions.push(question), false)));
    expect(result.outcome).toBe('declined');
    expect(questions).toEqual(['Execute this change set on dubai-dev? [y/N] ']);
    expect(cfn.commandCalls(DeleteChangeSetCommand)).toHaveLength(1);
    expect(cfn.commandCalls(ExecuteChangeSetCommand)).toHaveLength(0);
  });

  it('refuses to execute without a terminal unless --yes is given', async () => {
    existingStackWith([change('NodeRole', 'AWS::IAM::Role', 'Modify', 'False', 'Policies')]);
    await expect(runBootstrap(options({ yes: false }), deps())).rejects.toThrow(/no terminal to confirm the change set on; nothing was changed/);
    expect(cfn.commandCalls(ExecuteChangeSetCommand)).toHaveLength(0);
  });

  it('explains a stack whose first creation failed', async () => {
    cfn.on(DescribeStacksCommand).resolves({ Stacks: [{ StackName: STACK, StackStatus: 'ROLLBACK_COMPLETE', CreationTime: new Date(0) }] });
    await expect(runBootstrap(options(), deps())).rejects.toMatchObject({
      message: expect.stringContaining('stack dubai-dev is in ROLLBACK_COMPLETE'),
      fix: expect.stringContaining('aws cloudformation delete-stack --stack-name dubai-dev'),
    });
    expect(cfn.commandCalls(CreateChangeSetCommand)).toHaveLength(0);
  });

  it('reports a change set CloudFormation could not plan', async () => {
    existingStackWith([]);
    cfn.on(DescribeChangeSetCommand).resolves({ Status: 'FAILED', StatusReason: 'Parameter validation failed: parameter value 3 for parameter name AuroraBackupRetentionDays does not satisfy constraint' });
    await expect(runBootstrap(options(), deps())).rejects.toThrow(/could not plan the change: Parameter validation failed/);
  });
});

describe('a change set that would replace a majority of the K3s servers (prod: three servers)', () => {
  const PROD_ACCOUNT = '210987654323';
  let prod: ReturnType<typeof scratchRepository>;
  beforeEach(() => {
    prod = scratchRepository('prod');
    mockClient(clients.sts).on(GetCallerIdentityCommand).resolves({ Account: PROD_ACCOUNT, Arn: `arn:aws:iam::${PROD_ACCOUNT}:user/ops` });
    // prod's template is above the request limit: the bootstrap uploads it (S3 answered by the mock).
    mockClient(clients.s3).resolves({});
  });
  afterEach(() => prod.remove());
  const prodOptions = (extra: Partial<BootstrapOptions> = {}) => options({ root: prod.root, env: 'prod', ...extra });
  /** prod replicates its backups (backups.replication): its replica stack in me-south-1 is already up to date. */
  const replicaClients = () => {
    const replica = awsClients({ region: 'me-south-1', credentials: { accessKeyId: 'AKIAMOCK', secretAccessKey: 'mock' } });
    const replicaCfn = mockClient(replica.cfn);
    const keyArn = `arn:aws:kms:me-south-1:${PROD_ACCOUNT}:key/00000000-0000-4000-8000-000000000000`;
    replicaCfn.on(DescribeStacksCommand).resolves({ Stacks: [{ StackName: 'dubai-prod-replica', StackStatus: 'UPDATE_COMPLETE', CreationTime: new Date(0), Outputs: [{ OutputKey: 'ReplicaKmsKeyArn', OutputValue: keyArn }] }] });
    replicaCfn.on(CreateChangeSetCommand).resolves({ Id: 'cs-replica' });
    replicaCfn.on(DescribeChangeSetCommand).resolves({ Status: 'FAILED', StatusReason: "The submitted information didn't contain changes. Submit different information to create a change set." });
    replicaCfn.on(DeleteChangeSetCommand).resolves({});
    return replica;
  };
  const prodDeps = () => ({ ...deps(), clientsIn: () => replicaClients() });
  const amiChange = (...servers: [string, 'True' | 'False'][]) => servers.map(([id, replacement]) => change(id, 'AWS::EC2::Instance', 'Modify', replacement, 'ImageId'));

  it('refuses a replica change set that would replace a replica bucket, before the main stack is touched', async () => {
    const replica = awsClients({ region: 'me-south-1', credentials: { accessKeyId: 'AKIAMOCK', secretAccessKey: 'mock' } });
    const replicaCfn = mockClient(replica.cfn);
    replicaCfn.on(DescribeStacksCommand).resolves({ Stacks: [{ StackName: 'dubai-prod-replica', StackStatus: 'UPDATE_COMPLETE', CreationTime: new Date(0) }] });
    replicaCfn.on(CreateChangeSetCommand).resolves({ Id: 'cs-replica' });
    replicaCfn.on(DescribeChangeSetCommand).resolves({ Status: 'CREATE_COMPLETE', Changes: [change('ReplicaEtcdSnapshotsBucket', 'AWS::S3::Bucket', 'Modify', 'True', 'BucketName')] });
    replicaCfn.on(DeleteChangeSetCommand).resolves({});
    const attempt = runBootstrap(prodOptions(), { ...deps(), clientsIn: () => replica });
    await expect(attempt).rejects.toThrow(/refusing to replace or delete resources of the replica stack that hold data:\n {2}ReplicaEtcdSnapshotsBucket: an S3 bucket would be REPLACED/);
    expect(replicaCfn.commandCalls(DeleteChangeSetCommand)).toHaveLength(1);
    expect(replicaCfn.commandCalls(ExecuteChangeSetCommand)).toHaveLength(0);
    expect(cfn.commandCalls(CreateChangeSetCommand)).toHaveLength(0);
  });

  it('is refused even with --allow-replace, and nothing is executed', async () => {
    existingStackWith(amiChange(['NodeInstance', 'True'], ['Server2Instance', 'True'], ['Server3Instance', 'True']));
    const attempt = runBootstrap(prodOptions({ allowReplace: ['NodeInstance', 'Server2Instance', 'Server3Instance'] }), prodDeps());
    await expect(attempt).rejects.toThrow(/refusing to replace or remove 3 of the 3 K3s servers at once: etcd keeps its quorum only while at most 1 is gone\n {2}NodeInstance would be REPLACED \(because of ImageId\)/);
    await expect(attempt).rejects.toMatchObject({ fix: expect.stringContaining('cluster.serverAmiOverrides') });
    expect(cfn.commandCalls(DeleteChangeSetCommand)).toHaveLength(1);
    expect(cfn.commandCalls(ExecuteChangeSetCommand)).toHaveLength(0);
    expect(cfn.commandCalls(CreateChangeSetCommand)[0]!.args[0].input).toMatchObject({ TemplateURL: expect.stringMatching(/^https:\/\/dubai-prod-cfn-templates-210987654323\.s3\.me-central-1\.amazonaws\.com\/dubai-prod\/[0-9a-f]{64}\.json$/) });
  });

  it('lets one server be replaced per run (the others held on their AMI), and warns about servers that restart', async () => {
    existingStackWith(amiChange(['NodeInstance', 'True'], ['Server2Instance', 'False'], ['Server3Instance', 'False']));
    cfn.on(DescribeStackEventsCommand).resolves({ StackEvents: [] });
    cfn.on(DescribeStacksCommand).resolves({ Stacks: [{ StackName: 'dubai-prod', StackStatus: 'UPDATE_COMPLETE', CreationTime: new Date(0), Outputs: [] }] });
    const attempt = runBootstrap(prodOptions(), prodDeps());
    // It executes; writing the outputs then fails on the empty outputs of this mock, after the guard.
    await expect(attempt).rejects.toThrow(/has no output/);
    expect(cfn.commandCalls(ExecuteChangeSetCommand)).toHaveLength(1);
    expect(lines).toContain('! 2 servers may be stopped and started, one after another (Server2Instance, Server3Instance)');
  });
});
