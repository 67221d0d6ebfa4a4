/**
 * The customer-managed KMS key and the S3 buckets: attachments, Longhorn
 * backups, etcd snapshots and the kubeconfig, each versioned, fully
 * private, KMS-encrypted, TLS-only and logging to the access-log bucket;
 * retained when the stack is deleted or a bucket would be replaced.
 */
import type { EnvConfig } from '../../generator/config/schema.js';
import { bucketName, type BucketKey } from '../names.js';
import { AGENT_SERVICE_LINKED_ROLE, agentKeyStatements } from './cluster.js';
import { replicationOf } from './replication.js';
import { bucketArn, checkovSkips, getAtt, kmsKeyPolicy, ref, RETAIN, sub, tags, type CfnObject, type CfnResource, type CfnValue, type Resources } from './cfn.js';

/** The data buckets and their logical ids. */
export const DATA_BUCKETS: Record<Exclude<BucketKey, 'accessLogs'>, string> = {
  attachments: 'AttachmentsBucket',
  longhornBackups: 'LonghornBackupsBucket',
  etcdSnapshots: 'EtcdSnapshotsBucket',
  kubeconfig: 'KubeconfigBucket',
};

const PUBLIC_ACCESS_BLOCK = { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true };

/** Deny every request that does not use TLS 1.2 or later. */
function tlsOnlyStatements(bucket: string): CfnObject[] {
  const resources = [getAtt(bucket, 'Arn'), bucketArn(bucket, '/*')];
  return [
    { Sid: 'DenyInsecureTransport', Effect: 'Deny', Principal: { AWS: '*' }, Action: 's3:*', Resource: resources, Condition: { Bool: { 'aws:SecureTransport': 'false' } } },
    { Sid: 'DenyOutdatedTls', Effect: 'Deny', Principal: { AWS: '*' }, Action: 's3:*', Resource: resources, Condition: { NumericLessThan: { 's3:TlsVersion': '1.2' } } },
  ];
}

/** Lets an AWS log-delivery service of this account write into the access-log bucket. */
export function logDelivery(sid: string, service: string, action: string, resource: CfnValue, extraConditions: CfnObject = {}): CfnObject {
  return {
    Sid: sid,
    Effect: 'Allow',
    Principal: { Service: service },
    Action: action,
    Resource: resource,
    Condition: { StringEquals: { 'aws:SourceAccount': ref('AWS::AccountId'), ...extraConditions } },
  };
}

export function bucketPolicy(bucket: string, extra: CfnObject[] = []): CfnResource {
  return {
    Type: 'AWS::S3::BucketPolicy',
    Properties: { Bucket: ref(bucket), PolicyDocument: { Version: '2012-10-17', Statement: [...tlsOnlyStatements(bucket), ...extra] } },
  };
}

/** Rules every data bucket keeps (and its replica mirrors): old versions expire after 90 days, stale uploads after 7. */
export const BUCKET_LIFECYCLE = {
  Rules: [
    { Id: 'expire-old-versions', Status: 'Enabled', NoncurrentVersionExpiration: { NoncurrentDays: 90 } },
    { Id: 'abort-incomplete-uploads', Status: 'Enabled', AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 } },
  ],
};

/** A versioned, fully private, encrypted bucket, retained on delete; `tagName` names it in its Name tag. */
export function privateBucket(name: string, stack: string, tagName: string, encryption: CfnValue, extra: CfnObject = {}): CfnResource {
  return {
    Type: 'AWS::S3::Bucket',
    ...RETAIN,
    Properties: {
      BucketName: name,
      VersioningConfiguration: { Status: 'Enabled' },
      PublicAccessBlockConfiguration: PUBLIC_ACCESS_BLOCK,
      OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
      BucketEncryption: { ServerSideEncryptionConfiguration: [encryption] },
      LifecycleConfiguration: BUCKET_LIFECYCLE,
      Tags: tags(stack, tagName),
      ...extra,
    },
  };
}

function bucket(config: EnvConfig, stack: string, key: BucketKey, encryption: CfnValue, extra: CfnObject = {}): CfnResource {
  return privateBucket(bucketName(config, key), stack, key, encryption, extra);
}

const KMS_ENCRYPTION = { ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: getAtt('KmsKey', 'Arn') }, BucketKeyEnabled: true };

export function storageResources(config: EnvConfig, stack: string): Resources {
  const resources: Resources = {
    KmsKey: {
      Type: 'AWS::KMS::Key',
      ...RETAIN,
      // The key policy names the agents' Auto Scaling role, which must exist first.
      ...(agentKeyStatements(config, stack).length > 0 ? { DependsOn: AGENT_SERVICE_LINKED_ROLE } : {}),
      Properties: {
        Description: `${stack}: encrypts the node's volumes, Aurora, the buckets and the secrets`,
        EnableKeyRotation: true,
        PendingWindowInDays: 30,
        KeyPolicy: kmsKeyPolicy(agentKeyStatements(config, stack)),
        Tags: tags(stack, 'kms'),
      },
    },
    KmsKeyAlias: { Type: 'AWS::KMS::Alias', Properties: { AliasName: `alias/${stack}`, TargetKeyId: ref('KmsKey') } },
    // S3 server access logs can only be delivered to a bucket encrypted with SSE-S3, not SSE-KMS.
    AccessLogsBucket: {
      ...bucket(config, stack, 'accessLogs', { ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }),
      Metadata: checkovSkips([
        { id: 'CKV_AWS_18', comment: 'this is the access-log bucket itself; logging it into itself would loop' },
      ]),
    },
    AccessLogsBucketPolicy: bucketPolicy('AccessLogsBucket', [
      logDelivery('S3ServerAccessLogs', 'logging.s3.amazonaws.com', 's3:PutObject', bucketArn('AccessLogsBucket', '/s3-access/*')),
      logDelivery('VpcFlowLogsWrite', 'delivery.logs.amazonaws.com', 's3:PutObject', bucketArn('AccessLogsBucket', '/vpc-flow-logs/*'), { 's3:x-amz-acl': 'bucket-owner-full-control' }),
      logDelivery('VpcFlowLogsAclCheck', 'delivery.logs.amazonaws.com', 's3:GetBucketAcl', getAtt('AccessLogsBucket', 'Arn')),
    ]),
  };
  for (const [key, logicalId] of Object.entries(DATA_BUCKETS) as [BucketKey, string][]) {
    resources[logicalId] = bucket(config, stack, key, KMS_ENCRYPTION, {
      LoggingConfiguration: { DestinationBucketName: ref('AccessLogsBucket'), LogFilePrefix: `s3-access/${bucketName(config, key)}/` },
      // Only with backups.replication, for the buckets it lists (bootstrap/template/replication.ts).
      ...replicationOf(config, key),
    });
    resources[`${logicalId}Policy`] = bucketPolicy(logicalId);
  }
  return resources;
}
