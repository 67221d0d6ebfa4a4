/**
 * Cross-region replication of the buckets that hold backups
 * (backups.replication, docs/backups-and-replication.md), on the templates:
 * prod's source buckets replicate to the replica stack's buckets with the
 * replica key, through a role limited to exactly those buckets and keys; the
 * replica buckets are built like the sources; dev and staging render neither
 * the replica stack nor any replication; and the production check refuses a
 * backup bucket that lost its replication.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadConfig } from '../bootstrap/lib/environment.js';
import { importTemplate } from '../bootstrap/lib/retained.js';
import { bootstrapTemplate } from '../bootstrap/template/stack.js';
import { TEMPLATE_BODY_LIMIT } from '../bootstrap/lib/template-upload.js';
import { bucketName, replicaBucketName, type BucketKey } from '../bootstrap/names.js';
import { renderStackFiles } from '../bootstrap/render.js';
import { REPLICA_KEY_PARAMETER, REPLICATION_ROLE } from '../bootstrap/template/replication.js';
import { REPLICA_KEY, replicaLogicalId } from '../bootstrap/template/replica.js';
import { DATA_BUCKETS } from '../bootstrap/template/storage.js';
import { REPO_ROOT } from '../bootstrap/tools/python-tools.js';
import { BACKUP_BUCKETS, hardeningViolations, type ParsedTemplate } from './support/stack-hardening.js';

type Resource = { Type: string; DeletionPolicy?: string; UpdateReplacePolicy?: string; Properties: Record<string, any> };
type Template = { Parameters: Record<string, any>; Resources: Record<string, Resource>; Outputs: Record<string, any> };
const rendered = (env: string, file: string) => join(REPO_ROOT, 'rendered', env, 'bootstrap', file);
const templateOf = (env: string, file = 'template.yaml') => parse(readFileSync(rendered(env, file), 'utf8')) as Template;

const prod = loadConfig(REPO_ROOT, 'prod');
const REPLICATED: BucketKey[] = ['etcdSnapshots', 'longhornBackups', 'attachments'];

describe('prod: the source buckets replicate to the replica region', () => {
  const main = templateOf('prod');
  const replica = templateOf('prod', 'replica.yaml');

  it('replicates exactly the three backup buckets, versioned, KMS-encrypted objects included, with the replica key', () => {
    expect(prod.backups.replication).toEqual({ region: 'me-south-1', buckets: REPLICATED, storageClass: 'STANDARD_IA' });
    for (const key of REPLICATED) {
      const props = main.Resources[DATA_BUCKETS[key as keyof typeof DATA_BUCKETS]]!.Properties;
      expect(props['VersioningConfiguration'], key).toEqual({ Status: 'Enabled' });
      expect(props['ReplicationConfiguration'], key).toEqual({
        Role: { 'Fn::GetAtt': [REPLICATION_ROLE, 'Arn'] },
        Rules: [
          {
            Id: 'to-me-south-1',
            Status: 'Enabled',
            Priority: 1,
            Filter: { Prefix: '' },
            DeleteMarkerReplication: { Status: 'Enabled' },
            SourceSelectionCriteria: { SseKmsEncryptedObjects: { Status: 'Enabled' } },
            Destination: { Bucket: { 'Fn::Sub': `arn:\${AWS::Partition}:s3:::${replicaBucketName(prod, key)}` }, StorageClass: 'STANDARD_IA', EncryptionConfiguration: { ReplicaKmsKeyID: { Ref: REPLICA_KEY_PARAMETER } } },
          },
        ],
      });
      // The destination is a bucket of the replica stack, by the same name.
      expect(replica.Resources[replicaLogicalId(key)]!.Properties['BucketName']).toBe(replicaBucketName(prod, key));
    }
    expect(main.Resources['KubeconfigBucket']!.Properties['ReplicationConfiguration']).toBeUndefined();
    expect(main.Parameters[REPLICA_KEY_PARAMETER].AllowedPattern).toBe('^arn:aws[a-z-]*:kms:me-south-1:210987654323:key/[0-9a-f-]{36}$');
    // Looked up by the bootstrap, not a value in parameters.json.
    expect(JSON.parse(readFileSync(rendered('prod', 'parameters.json'), 'utf8')).map((p: { ParameterKey: string }) => p.ParameterKey)).not.toContain(REPLICA_KEY_PARAMETER);
  });

  it('gives S3 one role limited to exactly those buckets and keys', () => {
    const role = main.Resources[REPLICATION_ROLE]!.Properties;
    expect(role['AssumeRolePolicyDocument'].Statement).toEqual([
      { Effect: 'Allow', Principal: { Service: 's3.amazonaws.com' }, Action: 'sts:AssumeRole', Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } } },
    ]);
    const arn = (name: string) => ({ 'Fn::Sub': `arn:\${AWS::Partition}:s3:::${name}` });
    const objects = (name: string) => ({ 'Fn::Sub': `arn:\${AWS::Partition}:s3:::${name}/*` });
    const statements = Object.fromEntries((role['Policies'] as { PolicyDocument: { Statement: { Sid: string }[] } }[])[0]!.PolicyDocument.Statement.map((statement) => [statement.Sid, statement]));
    expect(statements).toEqual({
      ReadReplicationConfiguration: { Sid: 'ReadReplicationConfiguration', Effect: 'Allow', Action: ['s3:GetReplicationConfiguration', 's3:ListBucket'], Resource: REPLICATED.map((key) => arn(bucketName(prod, key))) },
      ReadSourceVersions: { Sid: 'ReadSourceVersions', Effect: 'Allow', Action: ['s3:GetObjectVersionForReplication', 's3:GetObjectVersionAcl', 's3:GetObjectVersionTagging'], Resource: REPLICATED.map((key) => objects(bucketName(prod, key))) },
      WriteReplicas: { Sid: 'WriteReplicas', Effect: 'Allow', Action: ['s3:ReplicateObject', 's3:ReplicateDelete', 's3:ReplicateTags'], Resource: REPLICATED.map((key) => objects(replicaBucketName(prod, key))) },
      DecryptSourceObjects: { Sid: 'DecryptSourceObjects', Effect: 'Allow', Action: ['kms:Decrypt'], Resource: [{ 'Fn::GetAtt': ['KmsKey', 'Arn'] }], Condition: { StringEquals: { 'kms:ViaService': { 'Fn::Sub': 's3.${AWS::Region}.amazonaws.com' } } } },
      EncryptReplicas: { Sid: 'EncryptReplicas', Effect: 'Allow', Action: ['kms:Encrypt', 'kms:GenerateDataKey'], Resource: [{ Ref: REPLICA_KEY_PARAMETER }], Condition: { StringEquals: { 'kms:ViaService': 's3.me-south-1.amazonaws.com' } } },
    });
  });

  it('builds each replica like its source: versioned, private, TLS only, encrypted with a key of that region, the same lifecycle, retained', () => {
    const tlsOnly = new Set(
      Object.values(replica.Resources)
        .filter((resource) => resource.Type === 'AWS::S3::BucketPolicy' && resource.Properties['PolicyDocument'].Statement.some((s: any) => s.Effect === 'Deny' && s.Condition?.Bool?.['aws:SecureTransport'] === 'false'))
        .map((resource) => resource.Properties['Bucket'].Ref),
    );
    for (const key of REPLICATED) {
      const id = replicaLogicalId(key);
      const bucket = replica.Resources[id]!;
      const source = main.Resources[DATA_BUCKETS[key as keyof typeof DATA_BUCKETS]]!;
      expect(bucket.Properties['VersioningConfiguration'], id).toEqual({ Status: 'Enabled' });
      expect(bucket.Properties['PublicAccessBlockConfiguration'], id).toEqual({ BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true });
      expect(bucket.Properties['BucketEncryption'], id).toEqual({ ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: { 'Fn::GetAtt': [REPLICA_KEY, 'Arn'] } }, BucketKeyEnabled: true }] });
      expect(bucket.Properties['LifecycleConfiguration'], id).toEqual(source.Properties['LifecycleConfiguration']);
      expect(bucket.Properties['LoggingConfiguration'], id).toEqual({ DestinationBucketName: { Ref: 'ReplicaAccessLogsBucket' }, LogFilePrefix: `s3-access/${replicaBucketName(prod, key)}/` });
      expect([bucket.DeletionPolicy, bucket.UpdateReplacePolicy], id).toEqual([source.DeletionPolicy, source.UpdateReplacePolicy]);
      expect(tlsOnly.has(id), `${id} has a TLS-only bucket policy`).toBe(true);
    }
    const key = replica.Resources[REPLICA_KEY]!;
    expect(key.Type).toBe('AWS::KMS::Key');
    expect(key.Properties['EnableKeyRotation']).toBe(true);
    expect(key.DeletionPolicy).toBe('RetainExceptOnCreate');
    expect(replica.Outputs['ReplicaKmsKeyArn']).toEqual({ Description: expect.any(String), Value: { 'Fn::GetAtt': [REPLICA_KEY, 'Arn'] } });
  });

  it('fits in the request itself (the replica region has no template bucket)', () => {
    expect(Buffer.byteLength(JSON.stringify(replica))).toBeLessThan(TEMPLATE_BODY_LIMIT);
  });
});

describe('dev and staging replicate nothing', () => {
  it.each(['dev', 'staging'])('%s: no replica stack, no replication, no role, no parameter', (env) => {
    const config = loadConfig(REPO_ROOT, env);
    expect(config.backups.replication).toBeUndefined();
    expect(existsSync(rendered(env, 'replica.yaml'))).toBe(false);
    expect([...renderStackFiles(config).keys()]).toEqual(['bootstrap/parameters.json', 'bootstrap/template.yaml']);
    const text = readFileSync(rendered(env, 'template.yaml'), 'utf8');
    expect(text).not.toMatch(/ReplicationConfiguration|ReplicationRole|ReplicaKmsKeyArn/);
  });
});

describe('the production check refuses a backup bucket without a copy in another region', () => {
  it.each(BACKUP_BUCKETS)('%s without ReplicationConfiguration', (id) => {
    const template = templateOf('prod') as unknown as ParsedTemplate;
    expect(hardeningViolations(template, prod)).toEqual([]);
    delete template.Resources[id]!.Properties!['ReplicationConfiguration'];
    expect(hardeningViolations(template, prod)).toEqual([`${id}: holds backups but has no copy in another region (no enabled replication of its KMS-encrypted objects) in production`]);
  });

  it('a replication rule that skips KMS-encrypted objects (every object here is)', () => {
    const template = templateOf('prod') as unknown as ParsedTemplate;
    (template.Resources['EtcdSnapshotsBucket']!.Properties!['ReplicationConfiguration'] as any).Rules[0].SourceSelectionCriteria.SseKmsEncryptedObjects.Status = 'Disabled';
    expect(hardeningViolations(template, prod)).toEqual(['EtcdSnapshotsBucket: holds backups but has no copy in another region (no enabled replication of its KMS-encrypted objects) in production']);
  });
});

describe('recreate-stack on prod', () => {
  it('imports the retained source buckets without their replication and without the replica key parameter (the update after it restores both)', () => {
    const template = bootstrapTemplate(prod);
    const retained = REPLICATED.map((key) => ({ logicalId: DATA_BUCKETS[key as keyof typeof DATA_BUCKETS], type: 'AWS::S3::Bucket', identifier: { BucketName: bucketName(prod, key) }, name: bucketName(prod, key) }));
    const imported = importTemplate(template, retained);
    expect(Object.keys(imported.Resources).sort()).toEqual(retained.map((resource) => resource.logicalId).sort());
    for (const resource of Object.values(imported.Resources)) {
      expect(resource.Properties?.['ReplicationConfiguration']).toBeUndefined();
      expect(resource.Properties?.['VersioningConfiguration']).toEqual({ Status: 'Enabled' });
    }
    expect(imported.Parameters).toEqual({});
    // The full template still has both.
    expect(template.Parameters[REPLICA_KEY_PARAMETER]).toBeDefined();
  });
});
