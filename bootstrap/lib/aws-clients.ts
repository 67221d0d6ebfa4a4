/**
 * The AWS SDK v3 clients the scripts use, built for the environment's region.
 * Credentials come from the default chain (profile, SSO, environment). An
 * endpoint override exists for tests against a local emulator only.
 */
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { EC2Client } from '@aws-sdk/client-ec2';
import { RDSClient } from '@aws-sdk/client-rds';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { STSClient } from '@aws-sdk/client-sts';
import type { EnvConfig } from '../../generator/config/schema.js';

export interface AwsClients {
  cfn: CloudFormationClient;
  sts: STSClient;
  s3: S3Client;
  secrets: SecretsManagerClient;
  /** The servers' instance states (a lost server); optional so callers that never look need not mock it. */
  ec2?: EC2Client;
  /** Aurora's restorable window and cluster states (restore-database); optional like ec2. */
  rds?: RDSClient;
}

export interface StaticCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface ClientOptions {
  region: string;
  endpoint?: string;
  credentials?: StaticCredentials;
}

export function awsClients({ region, endpoint, credentials }: ClientOptions): AwsClients {
  const common = { region, ...(endpoint ? { endpoint } : {}), ...(credentials ? { credentials } : {}) };
  return {
    cfn: new CloudFormationClient(common),
    sts: new STSClient(common),
    s3: new S3Client({ ...common, ...(endpoint ? { forcePathStyle: true } : {}) }),
    secrets: new SecretsManagerClient(common),
    ec2: new EC2Client(common),
    rds: new RDSClient(common),
  };
}

/** The clients of another region (the replica stack's, backups.replication) from a per-environment factory: the same factory, that region. */
export function clientsInRegion(factory: ((config: EnvConfig) => AwsClients) | undefined, config: EnvConfig): (region: string) => AwsClients {
  return (region) => (factory ? factory({ ...config, aws: { ...config.aws, region } }) : awsClients({ region }));
}
