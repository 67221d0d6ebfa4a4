/**
 * The replica stack (<stack>-replica) in backups.replication.region: the KMS
 * key of that region, and one replica bucket per replicated bucket, built
 * like the source buckets (versioned, fully private, TLS only, KMS-encrypted,
 * the same lifecycle, retained on delete) and logging to an access-log bucket
 * of its own region. `npm run bootstrap` deploys it before the main stack,
 * whose buckets replicate into it (bootstrap/template/replication.ts).
 */
import type { EnvConfig } from '../../generator/config/schema.js';
import { REPLICA_OUTPUTS, replicaBucketName, replicaStackName, stackName, type BucketKey } from '../names.js';
import { bucketArn, checkovSkips, getAtt, kmsKeyPolicy, ref, RETAIN, tags, type CfnOutput, type CfnTemplate, type Resources } from './cfn.js';
import { replicatedBuckets } from './replication.js';
import { bucketPolicy, logDelivery, privateBucket } from './storage.js';

export const REPLICA_KEY = 'ReplicaKmsKey';
const LOGS = 'ReplicaAccessLogsBucket';

/** Logical id of the replica of a bucket: ReplicaEtcdSnapshotsBucket, ... */
export function replicaLogicalId(key: BucketKey): string {
  return `Replica${key[0]!.toUpperCase()}${key.slice(1)}Bucket`;
}

/** The replica stack's template, or undefined when the environment replicates nothing. */
export function replicaTemplate(config: EnvConfig): CfnTemplate | undefined {
  const replication = config.backups.replication;
  if (!replication) return undefined;
  const stack = replicaStackName(config);
  const logsName = replicaBucketName(config, 'accessLogs');
  const resources: Resources = {
    [REPLICA_KEY]: {
      Type: 'AWS::KMS::Key',
      ...RETAIN,
      Properties: {
        Description: `${stack}: encrypts the replicas of ${stackName(config)}'s backup buckets`,
        EnableKeyRotation: true,
        PendingWindowInDays: 30,
        KeyPolicy: kmsKeyPolicy([]),
        Tags: tags(stack, 'kms'),
      },
    },
    [`${REPLICA_KEY}Alias`]: { Type: 'AWS::KMS::Alias', Properties: { AliasName: `alias/${stack}`, TargetKeyId: ref(REPLICA_KEY) } },
    // S3 server access logs can only be delivered to a bucket encrypted with SSE-S3.
    [LOGS]: {
      ...privateBucket(logsName, stack, 'access-logs', { ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }),
      Metadata: checkovSkips([{ id: 'CKV_AWS_18', comment: 'this is the access-log bucket of the replica region itself; logging it into itself would loop' }]),
    },
    [`${LOGS}Policy`]: bucketPolicy(LOGS, [logDelivery('S3ServerAccessLogs', 'logging.s3.amazonaws.com', 's3:PutObject', bucketArn(LOGS, '/s3-access/*'))]),
  };
  const outputs: Record<string, CfnOutput> = {
    [REPLICA_OUTPUTS.kmsKeyArn]: { Description: `KMS key encrypting the replicas in ${replication.region}`, Value: getAtt(REPLICA_KEY, 'Arn') },
  };
  for (const key of replicatedBuckets(config)) {
    const id = replicaLogicalId(key);
    const name = replicaBucketName(config, key);
    resources[id] = privateBucket(name, stack, `${key}-replica`, { ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: getAtt(REPLICA_KEY, 'Arn') }, BucketKeyEnabled: true }, {
      LoggingConfiguration: { DestinationBucketName: ref(LOGS), LogFilePrefix: `s3-access/${name}/` },
    });
    resources[`${id}Policy`] = bucketPolicy(id);
    outputs[id] = { Description: `Replica of the ${key} bucket`, Value: ref(id) };
  }
  return {
    AWSTemplateFormatVersion: '2010-09-09',
    Description: `DubAI AI Orchestration Hub, environment ${config.name}: replicas of the backup buckets in ${replication.region} (backups.replication). Rendered from environments/${config.name}.yaml; deployed by npm run bootstrap -- --env ${config.name} before stack ${stackName(config)}.`,
    Parameters: {},
    Resources: resources,
    Outputs: outputs,
  };
}
