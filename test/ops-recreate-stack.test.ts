/**
 * recreate-stack's import, which moto cannot emulate (test/support/moto-gaps.ts,
 * gap 11), against mocked AWS clients: the IMPORT change set names exactly
 * the retained resources with their identifiers and carries a template of
 * only those (each with its DeletionPolicy, nothing that refers to a resource
 * not imported yet), then the bootstrap updates the stack to the full
 * template and writes the outputs file; a refused import stops before the
 * update and deletes its change set.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import {
  CloudFormationClient,
  CreateChangeSetCommand,
  DeleteChangeSetCommand,
  DescribeChangeSetCommand,
  DescribeStackEventsCommand,
  DescribeStacksCommand,
  ExecuteChangeSetCommand,
  type CreateChangeSetCommandInput,
} from '@aws-sdk/client-cloudformation';
import { DescribeKeyCommand, KMSClient, ListKeysCommand } from '@aws-sdk/client-kms';
import { HeadBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DescribeSecretCommand, ResourceNotFoundException, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { EC2Client } from '@aws-sdk/client-ec2';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { environmentSecrets, OUTPUTS, secretLogicalId } from '../bootstrap/names.js';
import { loadConfig } from '../bootstrap/lib/environment.js';
import { REPO_ROOT } from '../bootstrap/tools/python-tools.js';
import { main } from '../ops/cli.js';
import { EXIT } from '../ops/plan.js';
import { recreateStackVerb } from '../ops/verbs/recreate-stack.js';
import { outputsFileExists, scratchRepository } from './support/scratch-repo.js';

const ENV = 'dev';
const STACK = 'dubai-dev';
const config = loadConfig(REPO_ROOT, ENV);
const KEY = '1234abcd-12ab-34cd-56ef-1234567890ab';
const accessKeySecret = environmentSecrets(config).find((secret) => secret.kind === 'generated' && secret.reference !== 'k3s/token')!;
const RETAINED_SECRETS = [accessKeySecret.name, `${config.secretsManager.prefix}k3s/token`];

const OUTPUT_VALUES: Record<string, string> = {
  [OUTPUTS.auroraEndpoint]: `${STACK}.cluster-abc.${config.aws.region}.rds.amazonaws.com`,
  [OUTPUTS.auroraPort]: '5432',
  [OUTPUTS.auroraMasterUserSecretArn]: `arn:aws:secretsmanager:${config.aws.region}:${config.aws.accountId}:secret:rds!cluster-abc-123456`,
  [OUTPUTS.attachmentsBucket]: `dubai-dev-attachments-${config.aws.accountId}`,
  [OUTPUTS.longhornBackupsBucket]: `dubai-dev-longhorn-backups-${config.aws.accountId}`,
  [OUTPUTS.etcdSnapshotsBucket]: `dubai-dev-etcd-snapshots-${config.aws.accountId}`,
  [OUTPUTS.kubeconfigBucket]: `dubai-dev-kubeconfig-${config.aws.accountId}`,
  [OUTPUTS.nodeInstanceId]: 'i-0123456789abcdef0',
  [OUTPUTS.externalSecretsRoleArn]: `arn:aws:iam::${config.aws.accountId}:role/dubai-dev-external-secrets`,
  [OUTPUTS.longhornRoleArn]: `arn:aws:iam::${config.aws.accountId}:role/dubai-dev-longhorn`,
  [OUTPUTS.openWebUIRoleArn]: `arn:aws:iam::${config.aws.accountId}:role/dubai-dev-open-webui`,
  [OUTPUTS.secretsPrefix]: config.secretsManager.prefix,
  [OUTPUTS.kmsKeyArn]: `arn:aws:kms:${config.aws.region}:${config.aws.accountId}:key/${KEY}`,
};

let scratch: ReturnType<typeof scratchRepository>;
let mocks: ReturnType<typeof mockClient>[];
let created: CreateChangeSetCommandInput[];
let deleted: string[];
let status: string | undefined;
let uploadedTemplates: string[] = [];

function install(importOutcome: { status: string; reason?: string }) {
  const cfn = mockClient(CloudFormationClient);
  const sts = mockClient(STSClient);
  const s3 = mockClient(S3Client);
  const secrets = mockClient(SecretsManagerClient);
  const kms = mockClient(KMSClient);
  mocks = [cfn, sts, s3, secrets, kms];
  sts.on(GetCallerIdentityCommand).resolves({ Account: config.aws.accountId, Arn: `arn:aws:iam::${config.aws.accountId}:user/on-call` });
  s3.on(HeadBucketCommand).resolves({});
  // Templates over CloudFormation's inline limit go through the bootstrap's template bucket.
  s3.on(PutObjectCommand).callsFake((input: { Body?: unknown }) => {
    uploadedTemplates.push(String(input.Body));
    return {};
  });
  secrets.on(DescribeSecretCommand).callsFake((input: { SecretId: string }) => {
    if (!RETAINED_SECRETS.includes(input.SecretId)) throw new ResourceNotFoundException({ message: "Secrets Manager can't find the specified secret.", $metadata: {} });
    return { ARN: `arn:aws:secretsmanager:${config.aws.region}:${config.aws.accountId}:secret:${input.SecretId}-AbCdEf`, Name: input.SecretId };
  });
  kms.on(ListKeysCommand).resolves({ Keys: [{ KeyId: KEY }], Truncated: false });
  kms.on(DescribeKeyCommand).resolves({ KeyMetadata: { KeyId: KEY, Description: `${STACK}: encrypts the node's volumes, Aurora, the buckets and the secrets`, KeyState: 'Enabled', KeyManager: 'CUSTOMER' } as never });
  cfn.on(DescribeStacksCommand).callsFake(() => {
    if (status === undefined) throw Object.assign(new Error(`Stack with id ${STACK} does not exist`), { name: 'ValidationError' });
    const outputs = status === 'UPDATE_COMPLETE' ? Object.entries(OUTPUT_VALUES).map(([OutputKey, OutputValue]) => ({ OutputKey, OutputValue })) : [];
    return { Stacks: [{ StackName: STACK, StackStatus: status, CreationTime: new Date(0), Outputs: outputs }] };
  });
  cfn.on(CreateChangeSetCommand).callsFake((input: CreateChangeSetCommandInput) => {
    created.push(input);
    if (input.ChangeSetType === 'IMPORT') status = 'REVIEW_IN_PROGRESS';
    return { Id: `arn:cs/${input.ChangeSetName}` };
  });
  cfn.on(DescribeChangeSetCommand).callsFake((input: { ChangeSetName: string }) =>
    input.ChangeSetName.startsWith('recreate-')
      ? { Status: importOutcome.status, StatusReason: importOutcome.reason, Changes: [] }
      : { Status: 'CREATE_COMPLETE', Changes: [{ Type: 'Resource', ResourceChange: { LogicalResourceId: 'NodeInstance', ResourceType: 'AWS::EC2::Instance', Action: 'Add', Details: [] } }] },
  );
  cfn.on(ExecuteChangeSetCommand).callsFake((input: { ChangeSetName: string }) => {
    status = input.ChangeSetName.startsWith('recreate-') ? 'IMPORT_COMPLETE' : 'UPDATE_COMPLETE';
    return {};
  });
  cfn.on(DescribeStackEventsCommand).resolves({ StackEvents: [] });
  cfn.on(DeleteChangeSetCommand).callsFake((input: { ChangeSetName: string }) => (deleted.push(input.ChangeSetName), {}));
}

async function recreate(argv: string[] = []) {
  const lines: string[] = [];
  let err = '';
  const clients = () => ({ cfn: new CloudFormationClient({}), sts: new STSClient({}), s3: new S3Client({}), secrets: new SecretsManagerClient({}), ec2: new EC2Client({}), kms: new KMSClient({}) });
  const code = await main(['recreate-stack', '--env', ENV, '--root', scratch.root, ...argv], {
    verbs: [recreateStackVerb({ clients, intervalMs: 1 })],
    reporter: { info: (line) => lines.push(line), warn: (line) => lines.push(`WARN ${line}`) },
    confirmer: () => ({ confirm: async () => false }),
    stdout: () => undefined,
    stderr: (text) => (err += text),
  });
  return { code, lines, err };
}

beforeEach(() => {
  scratch = scratchRepository(ENV);
  created = [];
  deleted = [];
  status = undefined;
  uploadedTemplates = [];
});

afterEach(() => {
  for (const mock of mocks ?? []) mock.restore();
  scratch.remove();
});

const BUCKETS = ['AccessLogsBucket', 'AttachmentsBucket', 'EtcdSnapshotsBucket', 'KubeconfigBucket', 'LonghornBackupsBucket', 'OidcBucket'];

describe('recreate-stack with CloudFormation mocked', () => {
  it('imports exactly the retained resources, then updates the stack to the full template and writes the outputs file', async () => {
    install({ status: 'CREATE_COMPLETE' });
    const result = await recreate();
    expect(result.err).toBe('');
    expect(result.lines.filter((line) => line.startsWith('WARN'))).toEqual([]);
    expect(result.code).toBe(EXIT.ok);
    expect(created.map((input) => input.ChangeSetType)).toEqual(['IMPORT', 'UPDATE']);

    const [imported, update] = created as [CreateChangeSetCommandInput, CreateChangeSetCommandInput];
    const importIds = [...BUCKETS, 'KmsKey', secretLogicalId('k3s/token'), secretLogicalId(accessKeySecret.reference)].sort();
    expect(imported.ResourcesToImport!.map((resource) => resource.LogicalResourceId).sort()).toEqual(importIds);
    expect(imported.ResourcesToImport).toContainEqual({ ResourceType: 'AWS::S3::Bucket', LogicalResourceId: 'AttachmentsBucket', ResourceIdentifier: { BucketName: `dubai-dev-attachments-${config.aws.accountId}` } });
    expect(imported.ResourcesToImport).toContainEqual({ ResourceType: 'AWS::KMS::Key', LogicalResourceId: 'KmsKey', ResourceIdentifier: { KeyId: KEY } });
    expect(imported.ResourcesToImport).toContainEqual({ ResourceType: 'AWS::SecretsManager::Secret', LogicalResourceId: 'SecretK3sToken', ResourceIdentifier: { Id: expect.stringMatching(/:secret:dubai\/dev\/k3s\/token-AbCdEf$/) } });

    const template = JSON.parse(imported.TemplateBody!) as { Resources: Record<string, { DeletionPolicy?: string; DependsOn?: unknown; Properties: Record<string, unknown> }>; Outputs: unknown };
    expect(Object.keys(template.Resources).sort()).toEqual(importIds);
    for (const [id, resource] of Object.entries(template.Resources)) {
      expect(resource.DeletionPolicy, id).toBe('RetainExceptOnCreate');
      expect(resource.DependsOn, id).toBeUndefined();
    }
    expect(template.Outputs).toEqual({});
    // A generated secret is imported without its generator (the update sets it).
    expect(template.Resources[secretLogicalId(accessKeySecret.reference)]!.Properties['SecretString']).toBeUndefined();
    expect(template.Resources[secretLogicalId(accessKeySecret.reference)]!.Properties['Name']).toBe(accessKeySecret.name);
    // What refers only to imported resources stays: the bucket's key and its access-log bucket.
    expect(template.Resources['AttachmentsBucket']!.Properties).toMatchObject({ BucketEncryption: expect.anything(), LoggingConfiguration: { DestinationBucketName: { Ref: 'AccessLogsBucket' } } });

    expect(update.TemplateBody ?? uploadedTemplates.join('\n')).toContain('"NodeInstance"');
    expect(result.lines).toContain(`[3/3] update ${STACK} to the full template with npm run bootstrap (creates the rest, writes environments/dev.outputs.yaml)`);
    expect(outputsFileExists(scratch.root, ENV)).toBe(true);
    expect(deleted).toEqual([]);
  });

  it('stops when CloudFormation refuses the import: deletes the change set, never updates (exit 1)', async () => {
    install({ status: 'FAILED', reason: 'Resources [AttachmentsBucket] is already part of another stack' });
    const result = await recreate();
    expect(result.code).toBe(EXIT.failed);
    expect(created.map((input) => input.ChangeSetType)).toEqual(['IMPORT']);
    expect(deleted).toEqual([expect.stringMatching(/^recreate-\d+$/)]);
    expect(result.lines).toContain('WARN ✗ step 1 failed: ' + result.lines.find((line) => line.startsWith('[1/3] '))!.slice(6) + ': CloudFormation refused the import: Resources [AttachmentsBucket] is already part of another stack\n  fix: the retained resource may be owned by another stack, or scheduled for deletion (secrets: aws secretsmanager restore-secret)');
    expect(outputsFileExists(scratch.root, ENV)).toBe(false);
  });
});
