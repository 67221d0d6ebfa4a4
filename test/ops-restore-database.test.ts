/**
 * restore-database where moto cannot help (test/support/moto-gaps.ts, gap 13):
 * the template with a restore (the restored cluster's properties, the outputs
 * switched, the old cluster kept or dropped), the environment file edit, and
 * the verb's whole run against mocked CloudFormation, RDS, S3 and STS
 * clients: moto's CloudFormation creates no DBCluster at all, restored or not,
 * so the deploy, the wait for the new cluster and the outputs switch run
 * here; the restorable window is also read from moto's RDS in
 * test/ops-restore-database-moto.test.ts.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import {
  CreateChangeSetCommand,
  DeleteChangeSetCommand,
  DescribeChangeSetCommand,
  DescribeStackEventsCommand,
  DescribeStackResourceCommand,
  DescribeStacksCommand,
  ExecuteChangeSetCommand,
  type Change,
} from '@aws-sdk/client-cloudformation';
import { DescribeDBClustersCommand, ModifyDBClusterCommand, type DBCluster } from '@aws-sdk/client-rds';
import { HeadBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { parse } from 'yaml';
import { awsClients, type AwsClients } from '../bootstrap/lib/aws-clients.js';
import { loadConfig } from '../bootstrap/lib/environment.js';
import type { Clock } from '../bootstrap/lib/polling.js';
import { OUTPUTS } from '../bootstrap/names.js';
import { bootstrapTemplate } from '../bootstrap/template/stack.js';
import { REPO_ROOT } from '../bootstrap/tools/python-tools.js';
import type { EnvConfig } from '../generator/config/schema.js';
import { parseRfc3339 } from '../generator/config/timestamps.js';
import { main } from '../ops/cli.js';
import { EXIT } from '../ops/plan.js';
import { restoreDatabaseVerb, withAuroraRestores } from '../ops/verbs/restore-database.js';
import { scratchRepository } from './support/scratch-repo.js';

const prod = loadConfig(REPO_ROOT, 'prod');
type Restore = EnvConfig['aurora']['restores'][number];
const withRestores = (config: EnvConfig, restores: Restore[]): EnvConfig => ({ ...config, aurora: { ...config.aurora, restores } });
const FIRST: Restore = { generation: 2, restoreToTime: '2026-12-01T09:30:00Z', sourceClusterIdentifier: 'dubai-prod-auroracluster-abc123', keepSource: true };

describe('the template with a point-in-time restore', () => {
  const template = bootstrapTemplate(withRestores(prod, [FIRST]));
  const resources = template.Resources;
  const original = bootstrapTemplate(prod).Resources;

  it('adds a cluster restored from the current one, with the original\'s key, network, parameters and managed password', () => {
    const restored = resources['AuroraClusterG2']!;
    expect(restored.Type).toBe('AWS::RDS::DBCluster');
    expect(restored).toMatchObject({ DeletionPolicy: 'Snapshot', UpdateReplacePolicy: 'Snapshot' });
    expect(restored.Properties).toMatchObject({
      SourceDBClusterIdentifier: 'dubai-prod-auroracluster-abc123',
      RestoreToTime: '2026-12-01T09:30:00Z',
      RestoreType: 'full-copy',
      ManageMasterUserPassword: true,
      MasterUserSecret: { KmsKeyId: { Ref: 'KmsKey' } },
      KmsKeyId: { 'Fn::GetAtt': ['KmsKey', 'Arn'] },
      DeletionProtection: true,
      DBSubnetGroupName: { Ref: 'AuroraSubnetGroup' },
      DBClusterParameterGroupName: { Ref: 'AuroraClusterParameterGroup' },
      VpcSecurityGroupIds: [{ 'Fn::GetAtt': ['AuroraSecurityGroup', 'GroupId'] }],
    });
    // The database, its master user and the encryption come from the source's data (KmsKeyId names the key).
    for (const property of ['DatabaseName', 'MasterUsername', 'StorageEncrypted']) expect(restored.Properties).not.toHaveProperty(property);
    const { SourceDBClusterIdentifier: _s, RestoreToTime: _t, RestoreType: _r, Tags: _tags, ...sameAsOriginal } = restored.Properties as Record<string, unknown>;
    const { DatabaseName: _d, MasterUsername: _m, StorageEncrypted: _e, Tags: _originalTags, ...originalRest } = original['AuroraCluster']!.Properties as Record<string, unknown>;
    expect(sameAsOriginal).toEqual(originalRest);
  });

  it('gives the restored cluster its own writer and readers, built like the original\'s', () => {
    expect(resources['AuroraWriterG2']?.Properties).toMatchObject({ DBClusterIdentifier: { Ref: 'AuroraClusterG2' }, DBInstanceClass: 'db.serverless' });
    expect(resources['AuroraReader1G2']?.Properties).toMatchObject({ DBClusterIdentifier: { Ref: 'AuroraClusterG2' }, PromotionTier: 0 });
    const { Tags: _a, DBClusterIdentifier: _b, ...writer } = resources['AuroraWriterG2']!.Properties as Record<string, unknown>;
    const { Tags: _c, DBClusterIdentifier: _d, ...originalWriter } = original['AuroraWriter']!.Properties as Record<string, unknown>;
    expect(writer).toEqual(originalWriter);
  });

  it('switches the outputs, External Secrets\' access to the master secret and the alarms to the restored cluster', () => {
    expect(template.Outputs[OUTPUTS.auroraEndpoint]?.Value).toEqual({ 'Fn::GetAtt': ['AuroraClusterG2', 'Endpoint.Address'] });
    expect(template.Outputs[OUTPUTS.auroraPort]?.Value).toEqual({ 'Fn::GetAtt': ['AuroraClusterG2', 'Endpoint.Port'] });
    expect(template.Outputs[OUTPUTS.auroraMasterUserSecretArn]?.Value).toEqual({ 'Fn::GetAtt': ['AuroraClusterG2', 'MasterUserSecret.SecretArn'] });
    expect(template.Outputs['AuroraReaderEndpoint']?.Value).toEqual({ 'Fn::GetAtt': ['AuroraClusterG2', 'ReadEndpoint.Address'] });
    const policies = JSON.stringify(resources['ExternalSecretsRole']);
    expect(policies).toContain('{"Fn::GetAtt":["AuroraClusterG2","MasterUserSecret.SecretArn"]}');
    expect(policies).not.toContain('"AuroraCluster",');
    for (const id of ['AuroraCapacityAtMaxAlarm', 'AuroraCpuAlarm', 'AuroraFreeableMemoryAlarm', 'AuroraConnectionsAlarm']) {
      expect(resources[id]?.Properties?.['Dimensions'], id).toEqual([{ Name: 'DBClusterIdentifier', Value: { Ref: 'AuroraClusterG2' } }]);
    }
  });

  it('keeps the old cluster and its instances unchanged while keepSource holds', () => {
    for (const id of ['AuroraCluster', 'AuroraWriter', 'AuroraReader1']) expect(resources[id], id).toEqual(original[id]);
  });

  it('drops the old cluster (the stack then takes its final snapshot) once keepSource is false, and the restored one does not change', () => {
    const dropped = bootstrapTemplate(withRestores(prod, [{ ...FIRST, keepSource: false }])).Resources;
    for (const id of ['AuroraCluster', 'AuroraWriter', 'AuroraReader1']) expect(dropped[id], id).toBeUndefined();
    for (const id of ['AuroraClusterG2', 'AuroraWriterG2', 'AuroraReader1G2']) expect(dropped[id], id).toEqual(resources[id]);
  });

  it('restores a restored cluster from its own identifier, keeping only what the entries keep', () => {
    const second: Restore = { generation: 3, restoreToTime: '2026-12-01T21:00:00Z', sourceClusterIdentifier: 'dubai-prod-auroraclusterg2-def456', keepSource: true };
    const chain = bootstrapTemplate(withRestores(prod, [{ ...FIRST, keepSource: false }, second])).Resources;
    expect(Object.keys(chain).filter((id) => chain[id]!.Type === 'AWS::RDS::DBCluster').sort()).toEqual(['AuroraClusterG2', 'AuroraClusterG3']);
    expect(chain['AuroraClusterG3']?.Properties).toMatchObject({ SourceDBClusterIdentifier: 'dubai-prod-auroraclusterg2-def456', RestoreToTime: '2026-12-01T21:00:00Z' });
    expect(chain['AuroraClusterG2']).toEqual(resources['AuroraClusterG2']);
  });

  it('is the template of today without a restore', () => {
    expect(bootstrapTemplate(withRestores(prod, []))).toEqual(bootstrapTemplate(prod));
    expect(Object.keys(bootstrapTemplate(prod).Resources).filter((id) => id.startsWith('AuroraCluster'))).toEqual(['AuroraClusterParameterGroup', 'AuroraCluster']);
  });
});

describe('RFC 3339 times', () => {
  it('takes UTC and offsets, refuses impossible days, hours and offsets', () => {
    expect(parseRfc3339('2026-12-01T09:30:00Z')?.toISOString()).toBe('2026-12-01T09:30:00.000Z');
    expect(parseRfc3339('2026-12-01T13:30:00.5+04:00')?.toISOString()).toBe('2026-12-01T09:30:00.500Z');
    expect(parseRfc3339('2028-02-29T00:00:00Z')).toBeDefined();
    for (const bad of ['2026-02-29T00:00:00Z', '2026-13-01T00:00:00Z', '2026-12-01T24:00:00Z', '2026-12-01T09:30:00', '2026-12-01 09:30:00Z', '2026-12-01T09:30:00+24:00', 'yesterday']) expect(parseRfc3339(bad), bad).toBeUndefined();
  });
});

describe('the environment file edit', () => {
  it('appends the restore and keeps comments and the rest of the file', () => {
    const text = '# prod\nname: prod\naurora:\n  readers: 1 # the failover target\n';
    const edited = withAuroraRestores(text, [FIRST]);
    expect(edited).toContain('# prod\n');
    expect(edited).toContain('readers: 1 # the failover target');
    expect(parse(edited).aurora).toEqual({ readers: 1, restores: [FIRST] });
  });
});

// ---- The verb against mocked clients ----

const ENV = 'dev';
const STACK = 'dubai-dev';
const NOW = Date.parse('2026-12-02T06:00:00Z');
const SOURCE = 'dubai-dev-auroracluster-abc123';
const RESTORED = 'dubai-dev-auroraclusterg2-def456';
const ENDPOINT = `${RESTORED}.cluster-c1.me-central-1.rds.amazonaws.com`;
const SECRET = 'arn:aws:secretsmanager:me-central-1:210987654321:secret:rds!cluster-g2-AbCdEf';

let scratch: ReturnType<typeof scratchRepository>;
let clients: AwsClients;
let cfn: ReturnType<typeof mockClient>;
let rds: ReturnType<typeof mockClient>;
let time: number;
const clock: Clock = { now: () => time, sleep: async (ms) => void (time += ms) };
const account = () => loadConfig(scratch.root, ENV).aws.accountId;

function cluster(identifier: string, extra: Partial<DBCluster> = {}): DBCluster {
  return { DBClusterIdentifier: identifier, Status: 'available', EarliestRestorableTime: new Date('2026-11-25T06:00:00Z'), LatestRestorableTime: new Date('2026-12-02T05:55:00Z'), DeletionProtection: false, ...extra };
}

function stackWith(changes: Change[], outputs: Record<string, string>) {
  cfn.on(DescribeStacksCommand).resolves({ Stacks: [{ StackName: STACK, StackStatus: 'UPDATE_COMPLETE', CreationTime: new Date(0), Outputs: Object.entries(outputs).map(([OutputKey, OutputValue]) => ({ OutputKey, OutputValue })) }] });
  cfn.on(CreateChangeSetCommand).resolves({ Id: 'cs-arn' });
  cfn.on(DescribeChangeSetCommand).resolves({ Status: 'CREATE_COMPLETE', Changes: changes });
  cfn.on(DeleteChangeSetCommand).resolves({});
  cfn.on(ExecuteChangeSetCommand).resolves({});
  cfn.on(DescribeStackEventsCommand).resolves({ StackEvents: [] });
}

const resourceChange = (logicalId: string, type: string, action: 'Add' | 'Remove' | 'Modify'): Change => ({ Type: 'Resource', ResourceChange: { LogicalResourceId: logicalId, ResourceType: type, Action: action, Details: [] } });
const physical = (logicalId: string, id: string) => cfn.on(DescribeStackResourceCommand, { LogicalResourceId: logicalId }).resolves({ StackResourceDetail: { LogicalResourceId: logicalId, PhysicalResourceId: id, ResourceType: 'AWS::RDS::DBCluster', ResourceStatus: 'CREATE_COMPLETE', LastUpdatedTimestamp: new Date(0) } });

function outputs(endpoint: string, secret: string): Record<string, string> {
  return {
    [OUTPUTS.auroraEndpoint]: endpoint,
    [OUTPUTS.auroraPort]: '5432',
    [OUTPUTS.auroraMasterUserSecretArn]: secret,
    [OUTPUTS.attachmentsBucket]: 'dubai-dev-attachments',
    [OUTPUTS.longhornBackupsBucket]: 'dubai-dev-longhorn',
    [OUTPUTS.etcdSnapshotsBucket]: 'dubai-dev-etcd',
    [OUTPUTS.kubeconfigBucket]: 'dubai-dev-kubeconfig',
    [OUTPUTS.nodeInstanceId]: 'i-0000000000000001',
    [OUTPUTS.secretsPrefix]: 'dubai/dev/',
    [OUTPUTS.kmsKeyArn]: 'arn:aws:kms:me-central-1:210987654321:key/1',
    [OUTPUTS.externalSecretsRoleArn]: 'arn:aws:iam::210987654321:role/dubai-dev-external-secrets',
    [OUTPUTS.longhornRoleArn]: 'arn:aws:iam::210987654321:role/dubai-dev-longhorn',
    [OUTPUTS.openWebUIRoleArn]: 'arn:aws:iam::210987654321:role/dubai-dev-open-webui',
    [OUTPUTS.oidcIssuer]: 'https://dubai-dev-oidc-210987654321.s3.me-central-1.amazonaws.com',
  };
}

async function ops(argv: string[], answer = false) {
  const lines: string[] = [];
  let err = '';
  const code = await main(['restore-database', '--env', ENV, '--root', scratch.root, ...argv], {
    verbs: [restoreDatabaseVerb({ clients: () => clients, clock, intervalMs: 1_000 })],
    reporter: { info: (line) => lines.push(line), warn: (line) => lines.push(`WARN ${line}`) },
    confirmer: () => ({ confirm: async () => answer }),
    stdout: () => undefined,
    stderr: (text) => (err += text),
  });
  return { code, lines, err };
}

const envFile = () => readFileSync(join(scratch.root, 'environments', `${ENV}.yaml`), 'utf8');

describe('restore-database (CloudFormation, RDS, S3, STS mocked)', () => {
  beforeEach(() => {
    scratch = scratchRepository(ENV);
    clients = awsClients({ region: 'me-central-1', credentials: { accessKeyId: 'AKIAMOCK', secretAccessKey: 'mock' } });
    cfn = mockClient(clients.cfn);
    rds = mockClient(clients.rds!);
    mockClient(clients.sts).on(GetCallerIdentityCommand).resolves({ Account: account(), Arn: `arn:aws:iam::${account()}:user/on-call` });
    const s3 = mockClient(clients.s3);
    s3.on(HeadBucketCommand).resolves({});
    s3.on(PutObjectCommand).resolves({});
    time = NOW;
    physical('AuroraCluster', SOURCE);
    rds.on(DescribeDBClustersCommand, { DBClusterIdentifier: SOURCE }).resolves({ DBClusters: [cluster(SOURCE)] });
  });
  afterEach(() => scratch.remove());

  it('refuses a time that is not RFC 3339 or in the future (exit 2), and one outside the window (exit 1), naming the window; nothing changes', async () => {
    const before = envFile();
    const bad = await ops(['--to', '2026-12-01 09:30']);
    expect(bad.code).toBe(EXIT.usage);
    expect(bad.err).toMatch(/--to "2026-12-01 09:30" is not an RFC 3339 timestamp; give a UTC time such as 2026-12-02T06:00:00Z/);
    const future = await ops(['--to', '2026-12-02T06:05:00Z']);
    expect(future.code).toBe(EXIT.usage);
    expect(future.err).toMatch(/--to 2026-12-02T06:05:00Z is in the future \(it is now 2026-12-02T06:00:00.000Z\)/);
    const old = await ops(['--to', '2026-11-20T00:00:00Z']);
    expect(old.code).toBe(EXIT.failed);
    expect(old.err).toContain(`--to 2026-11-20T00:00:00Z is outside the restorable window of ${SOURCE}: 2026-11-25T06:00:00.000Z to 2026-12-02T05:55:00.000Z`);
    expect(old.err).toMatch(/fix: give a time from 2026-11-25T06:00:00.000Z on/);
    const recent = await ops(['--to', '2026-12-02T05:58:00Z']);
    expect(recent.err).toMatch(/outside the restorable window[^\n]*\n\s*fix: give a time up to 2026-12-02T05:55:00.000Z/);
    expect(envFile()).toBe(before);
    expect(cfn.commandCalls(CreateChangeSetCommand)).toHaveLength(0);
  });

  it('prints exactly what it would do on --dry-run, and changes nothing', async () => {
    const before = envFile();
    const result = await ops(['--to', '2026-12-01T09:30:00Z', '--dry-run']);
    expect(result.err).toBe('');
    expect(result.code).toBe(EXIT.ok);
    expect(result.lines).toContain('✓ 2026-12-01T09:30:00Z is inside the window 2026-11-25T06:00:00.000Z to 2026-12-02T05:55:00.000Z');
    expect(result.lines).toContain("restore dubai-dev's Aurora to 2026-12-01T09:30:00Z into AuroraClusterG2 (from AuroraCluster, which is kept)");
    expect(result.lines).toContain(`  1. add restore generation 2 (to 2026-12-01T09:30:00Z, from ${SOURCE}) to environments/dev.yaml (aurora.restores)`);
    expect(result.lines).toContain("  3. deploy dubai-dev: add AuroraClusterG2 and AuroraWriterG2, switch the Aurora outputs to it, write environments/dev.outputs.yaml (with npm run bootstrap's checks)  [destructive]");
    expect(result.lines).toContain(`  ! AuroraCluster (${SOURCE}) stays in the stack, and costs, until: npm run ops -- restore-database --env dev --delete-old`);
    expect(result.lines).toContain('dry run: nothing was changed');
    expect(envFile()).toBe(before);
    expect(cfn.commandCalls(CreateChangeSetCommand)).toHaveLength(0);
  });

  it('writes a time given with an offset in UTC, as CloudFormation takes it', async () => {
    const result = await ops(['--to', '2026-12-01T13:30:00+04:00', '--dry-run']);
    expect(result.code).toBe(EXIT.ok);
    expect(result.lines).toContain(`  1. add restore generation 2 (to 2026-12-01T09:30:00Z, from ${SOURCE}) to environments/dev.yaml (aurora.restores)`);
  });

  it('is one of the verbs of npm run ops', async () => {
    const { VERBS } = await import('../ops/verbs/index.js');
    expect(VERBS.map((verb) => verb.name)).toContain('restore-database');
  });

  it('does nothing when the operator does not confirm (exit 3)', async () => {
    const before = envFile();
    const result = await ops(['--to', '2026-12-01T09:30:00Z']);
    expect(result.code).toBe(EXIT.declined);
    expect(envFile()).toBe(before);
  });

  it('restores: edits the file, renders, deploys the new cluster, waits for it, and the outputs file follows it', async () => {
    stackWith([resourceChange('AuroraClusterG2', 'AWS::RDS::DBCluster', 'Add'), resourceChange('AuroraWriterG2', 'AWS::RDS::DBInstance', 'Add')], outputs(ENDPOINT, SECRET));
    physical('AuroraClusterG2', RESTORED);
    rds
      .on(DescribeDBClustersCommand, { DBClusterIdentifier: RESTORED })
      .resolvesOnce({ DBClusters: [cluster(RESTORED, { Status: 'creating' })] })
      .resolves({ DBClusters: [cluster(RESTORED, { Endpoint: ENDPOINT, MasterUserSecret: { SecretArn: SECRET } })] });
    const result = await ops(['--to', '2026-12-01T09:30:00Z', '--yes']);
    expect(result.err).toBe('');
    expect(result.code).toBe(EXIT.ok);
    expect(parse(envFile()).aurora.restores).toEqual([{ generation: 2, restoreToTime: '2026-12-01T09:30:00Z', sourceClusterIdentifier: SOURCE, keepSource: true }]);
    const template = parse(readFileSync(join(scratch.root, 'rendered', ENV, 'bootstrap', 'template.yaml'), 'utf8')) as { Resources: Record<string, { Properties: Record<string, unknown> }> };
    expect(template.Resources['AuroraClusterG2']?.Properties['RestoreToTime']).toBe('2026-12-01T09:30:00Z');
    expect(template.Resources['AuroraCluster']).toBeDefined();
    const sent = cfn.commandCalls(CreateChangeSetCommand)[0]!.args[0].input;
    expect(sent.TemplateURL ?? sent.TemplateBody).toBeDefined();
    expect(cfn.commandCalls(ExecuteChangeSetCommand)).toHaveLength(1);
    expect(result.lines).toContain(`  ${RESTORED}: available, endpoint ${ENDPOINT}`);
    expect(parse(readFileSync(join(scratch.root, 'environments', `${ENV}.outputs.yaml`), 'utf8')).aurora).toEqual({ endpoint: ENDPOINT, port: 5432, masterUserSecretArn: SECRET });
    expect(result.lines).toContain(`  ✓ environments/dev.outputs.yaml: ${ENDPOINT}`);
    expect(result.lines.join('\n')).toContain('git commit -m "dev: restore Aurora to 2026-12-01T09:30:00Z (restore-database)"');
  });

  it('fails at the check when the stack outputs still name the old cluster', async () => {
    stackWith([resourceChange('AuroraClusterG2', 'AWS::RDS::DBCluster', 'Add')], outputs(`${SOURCE}.cluster-c1.me-central-1.rds.amazonaws.com`, SECRET));
    physical('AuroraClusterG2', RESTORED);
    rds.on(DescribeDBClustersCommand, { DBClusterIdentifier: RESTORED }).resolves({ DBClusters: [cluster(RESTORED, { Endpoint: ENDPOINT, MasterUserSecret: { SecretArn: SECRET } })] });
    const result = await ops(['--to', '2026-12-01T09:30:00Z', '--yes']);
    expect(result.code).toBe(EXIT.failed);
    expect(result.lines.join('\n')).toMatch(/✗ step 5 failed: check environments\/dev.outputs.yaml names AuroraClusterG2's endpoint and master secret: environments\/dev.outputs.yaml has endpoint dubai-dev-auroracluster-abc123/);
  });

  it('--delete-old turns off the old cluster\'s protection and deploys its removal, allowed for exactly it', async () => {
    writeFileSync(join(scratch.root, 'environments', `${ENV}.yaml`), withAuroraRestores(envFile(), [{ generation: 2, restoreToTime: '2026-12-01T09:30:00Z', sourceClusterIdentifier: SOURCE, keepSource: true }]));
    rds.on(DescribeDBClustersCommand, { DBClusterIdentifier: SOURCE }).resolves({ DBClusters: [cluster(SOURCE, { DeletionProtection: true })] });
    rds.on(ModifyDBClusterCommand).resolves({});
    stackWith([resourceChange('AuroraCluster', 'AWS::RDS::DBCluster', 'Remove'), resourceChange('AuroraWriter', 'AWS::RDS::DBInstance', 'Remove')], outputs(ENDPOINT, SECRET));
    const dry = await ops(['--delete-old', '--dry-run']);
    expect(dry.code).toBe(EXIT.ok);
    expect(dry.lines).toContain(`delete AuroraCluster (${SOURCE}) from dubai-dev, after a final snapshot each; AuroraClusterG2 stays`);
    expect(rds.commandCalls(ModifyDBClusterCommand)).toHaveLength(0);
    const result = await ops(['--delete-old', '--yes']);
    expect(result.err).toBe('');
    expect(result.code).toBe(EXIT.ok);
    expect(rds.commandCalls(ModifyDBClusterCommand)[0]!.args[0].input).toEqual({ DBClusterIdentifier: SOURCE, DeletionProtection: false, ApplyImmediately: true });
    expect(parse(envFile()).aurora.restores[0].keepSource).toBe(false);
    expect(result.lines).toContain('! AuroraCluster will be deleted (allowed with --allow-replace)'.replace(/^/, 'WARN '));
    const template = parse(readFileSync(join(scratch.root, 'rendered', ENV, 'bootstrap', 'template.yaml'), 'utf8')) as { Resources: Record<string, unknown> };
    expect(template.Resources['AuroraCluster']).toBeUndefined();
    expect(template.Resources['AuroraClusterG2']).toBeDefined();
    expect(rds.commandCalls(ModifyDBClusterCommand)).toHaveLength(1);
    const again = await ops(['--delete-old']);
    expect(again.code).toBe(EXIT.ok);
    expect(again.lines).toContain('✓ dubai-dev keeps no Aurora cluster from an earlier restore; nothing to delete');
  });

  it('--delete-old turns the old cluster\'s protection back on when the deploy fails', async () => {
    writeFileSync(join(scratch.root, 'environments', `${ENV}.yaml`), withAuroraRestores(envFile(), [{ generation: 2, restoreToTime: '2026-12-01T09:30:00Z', sourceClusterIdentifier: SOURCE, keepSource: true }]));
    rds.on(DescribeDBClustersCommand, { DBClusterIdentifier: SOURCE }).resolves({ DBClusters: [cluster(SOURCE, { DeletionProtection: true })] });
    rds.on(ModifyDBClusterCommand).resolves({});
    stackWith([resourceChange('AuroraCluster', 'AWS::RDS::DBCluster', 'Remove')], outputs(ENDPOINT, SECRET));
    cfn.on(ExecuteChangeSetCommand).rejects(new Error('User is not authorized to perform cloudformation:ExecuteChangeSet'));
    const result = await ops(['--delete-old', '--yes']);
    expect(result.code).toBe(EXIT.failed);
    expect(rds.commandCalls(ModifyDBClusterCommand).map((call) => call.args[0].input.DeletionProtection)).toEqual([false, true]);
    expect(result.lines).toContain(`  deletion protection of ${SOURCE} is on again`);
  });

  it('refuses --to with --delete-old (exit 2)', async () => {
    const result = await ops(['--to', '2026-12-01T09:30:00Z', '--delete-old']);
    expect(result.code).toBe(EXIT.usage);
    expect(result.err).toMatch(/--to and --delete-old are separate runs/);
  });
});
