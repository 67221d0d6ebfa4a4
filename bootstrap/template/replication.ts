/**
 * The main stack's side of cross-region replication (backups.replication,
 * docs/backups-and-replication.md): each bucket that holds backups and is
 * listed there replicates every object version (and delete markers) to its
 * replica bucket in the replica region, re-encrypted with that region's
 * key; one IAM role lets S3 do exactly that for exactly those buckets and
 * keys. Nothing here renders without backups.replication.
 */
import type { EnvConfig } from '../../generator/config/schema.js';
import { bucketName, replicaBucketName, stackName, type BucketKey } from '../names.js';
import { allow, getAtt, ref, sub, tags, type CfnObject, type CfnParameter, type CfnResource, type Resources } from './cfn.js';

export const REPLICATION_ROLE = 'ReplicationRole';
/** The replica stack's key ARN: a parameter the bootstrap fills from that stack's output (it lives in another region). */
export const REPLICA_KEY_PARAMETER = 'ReplicaKmsKeyArn';

/** The buckets the environment replicates (none without backups.replication). */
export function replicatedBuckets(config: EnvConfig): BucketKey[] {
  return [...(config.backups.replication?.buckets ?? [])];
}

const s3Arn = (bucket: string, suffix = '') => sub(`arn:\${AWS::Partition}:s3:::${bucket}${suffix}`);

/** The ReplicationConfiguration property of a source bucket, or nothing when it is not replicated. */
export function replicationOf(config: EnvConfig, key: BucketKey): CfnObject {
  const replication = config.backups.replication;
  if (!replication || !(replication.buckets as readonly BucketKey[]).includes(key)) return {};
  return {
    ReplicationConfiguration: {
      Role: getAtt(REPLICATION_ROLE, 'Arn'),
      Rules: [
        {
          Id: `to-${replication.region}`,
          Status: 'Enabled',
          Priority: 1,
          Filter: { Prefix: '' },
          // A deletion in the source becomes a delete marker in the replica too; older versions stay for the lifecycle's 90 days.
          DeleteMarkerReplication: { Status: 'Enabled' },
          SourceSelectionCriteria: { SseKmsEncryptedObjects: { Status: 'Enabled' } },
          Destination: {
            Bucket: s3Arn(replicaBucketName(config, key)),
            StorageClass: replication.storageClass,
            EncryptionConfiguration: { ReplicaKmsKeyID: ref(REPLICA_KEY_PARAMETER) },
          },
        },
      ],
    },
  };
}

export function replicationParameters(config: EnvConfig): Record<string, CfnParameter> {
  const replication = config.backups.replication;
  if (!replication) return {};
  return {
    [REPLICA_KEY_PARAMETER]: {
      Type: 'String',
      Description: `ARN of the KMS key of stack ${stackName(config)}-replica in ${replication.region} (its output ReplicaKmsKeyArn; npm run bootstrap passes it).`,
      AllowedPattern: `^arn:aws[a-z-]*:kms:${replication.region}:${config.aws.accountId}:key/[0-9a-f-]{36}$`,
    },
  };
}

/** Names the source buckets by name (not GetAtt): each bucket names the role, so the role cannot name the bucket resources. */
function replicationRole(config: EnvConfig, stack: string, keys: BucketKey[]): CfnResource {
  const region = config.backups.replication!.region;
  const sources = keys.map((key) => bucketName(config, key));
  const replicas = keys.map((key) => replicaBucketName(config, key));
  return {
    Type: 'AWS::IAM::Role',
    Properties: {
      RoleName: `${stack}-s3-replication`,
      Description: `${stack}: S3 replicates the backup buckets to ${region}`,
      AssumeRolePolicyDocument: {
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Principal: { Service: 's3.amazonaws.com' },
            Action: 'sts:AssumeRole',
            Condition: { StringEquals: { 'aws:SourceAccount': ref('AWS::AccountId') } },
          },
        ],
      },
      Policies: [
        {
          PolicyName: 's3-replication',
          PolicyDocument: {
            Version: '2012-10-17',
            Statement: [
              allow('ReadReplicationConfiguration', ['s3:GetReplicationConfiguration', 's3:ListBucket'], sources.map((name) => s3Arn(name))),
              allow('ReadSourceVersions', ['s3:GetObjectVersionForReplication', 's3:GetObjectVersionAcl', 's3:GetObjectVersionTagging'], sources.map((name) => s3Arn(name, '/*'))),
              allow('WriteReplicas', ['s3:ReplicateObject', 's3:ReplicateDelete', 's3:ReplicateTags'], replicas.map((name) => s3Arn(name, '/*'))),
              allow('DecryptSourceObjects', ['kms:Decrypt'], [getAtt('KmsKey', 'Arn')], { StringEquals: { 'kms:ViaService': sub('s3.${AWS::Region}.amazonaws.com') } }),
              allow('EncryptReplicas', ['kms:Encrypt', 'kms:GenerateDataKey'], [ref(REPLICA_KEY_PARAMETER)], { StringEquals: { 'kms:ViaService': `s3.${region}.amazonaws.com` } }),
            ],
          },
        },
      ],
      Tags: tags(stack, 's3-replication'),
    },
  };
}

export function replicationResources(config: EnvConfig, stack: string): Resources {
  const keys = replicatedBuckets(config);
  return keys.length === 0 ? {} : { [REPLICATION_ROLE]: replicationRole(config, stack, keys) };
}
