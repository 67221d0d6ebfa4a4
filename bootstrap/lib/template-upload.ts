/**
 * CloudFormation takes a template of at most 51,200 bytes in the request
 * itself; a larger one (an environment with several servers and agents
 * carries one user data per server and one for the agents) must be read
 * from S3. The bootstrap keeps such templates in a bucket of its own,
 * outside the stack (the stack cannot hold the bucket its own template is
 * read from): `dubai-<env>-cfn-templates-<account>`, private, encrypted,
 * TLS only, versioned, objects expiring after 90 days. Each template is
 * stored under its SHA-256, so what CloudFormation reads is exactly what
 * was rendered and reviewed.
 */
import { createHash } from 'node:crypto';
import {
  CreateBucketCommand,
  HeadBucketCommand,
  PutBucketEncryptionCommand,
  PutBucketLifecycleConfigurationCommand,
  PutBucketPolicyCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  PutPublicAccessBlockCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { EnvConfig } from '../../generator/config/schema.js';
import { stackName } from '../names.js';
import { errorName } from './errors.js';

/** CloudFormation's limit on a TemplateBody, in bytes. */
export const TEMPLATE_BODY_LIMIT = 51_200;
/** CloudFormation's limit on a template read from S3 (TemplateURL), in bytes. */
export const TEMPLATE_URL_LIMIT = 1_000_000;

export function templateBucketName(config: EnvConfig): string {
  return `${stackName(config)}-cfn-templates-${config.aws.accountId}`;
}

export type TemplateSource = { templateBody: string } | { templateUrl: string };

function tlsOnlyPolicy(bucket: string): string {
  const resources = [`arn:aws:s3:::${bucket}`, `arn:aws:s3:::${bucket}/*`];
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [{ Sid: 'DenyInsecureTransport', Effect: 'Deny', Principal: { AWS: '*' }, Action: 's3:*', Resource: resources, Condition: { Bool: { 'aws:SecureTransport': 'false' } } }],
  });
}

/** Whether the bucket exists (HeadBucket; NotFound is an answer, any other error is thrown). */
export async function bucketExists(s3: S3Client, bucket: string): Promise<boolean> {
  try {
    await s3.send(new HeadBucketCommand({ Bucket: bucket }));
    return true;
  } catch (error) {
    if (['NotFound', 'NoSuchBucket'].includes(errorName(error))) return false;
    throw error;
  }
}

async function ensureBucket(s3: S3Client, config: EnvConfig, bucket: string, log: (line: string) => void): Promise<void> {
  if (await bucketExists(s3, bucket)) return;
  log(`Creating s3://${bucket} for templates above ${TEMPLATE_BODY_LIMIT} bytes (private, encrypted, TLS only)`);
  const region = config.aws.region;
  await s3.send(new CreateBucketCommand({ Bucket: bucket, ...(region === 'us-east-1' ? {} : { CreateBucketConfiguration: { LocationConstraint: region as never } }) }));
  await s3.send(new PutPublicAccessBlockCommand({ Bucket: bucket, PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true } }));
  await s3.send(new PutBucketEncryptionCommand({ Bucket: bucket, ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] } }));
  await s3.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }));
  await s3.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: tlsOnlyPolicy(bucket) }));
  await s3.send(
    new PutBucketLifecycleConfigurationCommand({
      Bucket: bucket,
      LifecycleConfiguration: { Rules: [{ ID: 'expire-templates', Status: 'Enabled', Filter: { Prefix: '' }, Expiration: { Days: 90 }, NoncurrentVersionExpiration: { NoncurrentDays: 90 } }] },
    }),
  );
}

/** Where CloudFormation reads the template from: the request itself when it fits, else an S3 object this uploads. */
export async function templateSource(s3: S3Client, config: EnvConfig, templateBody: string, log: (line: string) => void): Promise<TemplateSource> {
  const size = Buffer.byteLength(templateBody, 'utf8');
  if (size <= TEMPLATE_BODY_LIMIT) return { templateBody };
  const bucket = templateBucketName(config);
  await ensureBucket(s3, config, bucket, log);
  const key = `${stackName(config)}/${createHash('sha256').update(templateBody).digest('hex')}.json`;
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: templateBody, ContentType: 'application/json' }));
  log(`✓ template (${size} bytes, over the ${TEMPLATE_BODY_LIMIT}-byte request limit) uploaded to s3://${bucket}/${key}`);
  return { templateUrl: `https://${bucket}.s3.${config.aws.region}.amazonaws.com/${key}` };
}
