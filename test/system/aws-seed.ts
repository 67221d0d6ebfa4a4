/**
 * Seeds moto (Secrets Manager and S3) with what the rendered CloudFormation
 * template creates, under the names it gives them: every
 * AWS::SecretsManager::Secret (generated ones get a random value of the
 * template's length and alphabet; the provider secrets get one fake key per
 * provider so the fake provider can tell them apart), the Aurora master secret
 * RDS manages (`ManageMasterUserPassword`, username from `MasterUsername`) and
 * the attachments bucket. Then reads values back as ESO's ClusterSecretStore does.
 */
import { randomBytes } from 'node:crypto';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateSecretCommand, GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { RemoteRead } from './rendered.js';

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
// RDS-managed passwords use punctuation except / @ " and space: keep a few that need URL escaping.
const RDS_ALPHABET = `${ALNUM}#%+:?&=!`;

function random(length: number, alphabet: string): string {
  const bytes = randomBytes(length);
  return Array.from(bytes, (byte) => alphabet[byte % alphabet.length]).join('');
}

export interface SeededAws {
  read: RemoteRead;
  /** Fake provider keys by secret name (dubai/<env>/providers/<id>). */
  providerKeys: Map<string, string>;
  bucket: string;
  s3: S3Client;
  overrides: string[];
}

/**
 * `properties`: for each secret name, the JSON properties the rendered
 * ExternalSecrets read from it; a secret set by hand (`npm run secrets`) is
 * seeded as a JSON object with those, or as a plain string when none are read.
 */
export async function seedAws(endpoint: string, region: string, template: any, properties: Map<string, Set<string>>, log: (line: string) => void): Promise<SeededAws> {
  const credentials = { accessKeyId: 'AKIAMOTOSYSTEMTEST', secretAccessKey: 'moto' };
  const sm = new SecretsManagerClient({ region, endpoint, credentials });
  const s3 = new S3Client({ region, endpoint, credentials, forcePathStyle: true });
  const resources = Object.entries(template.Resources as Record<string, any>);
  const providerKeys = new Map<string, string>();
  const overrides: string[] = [];
  for (const [logicalId, resource] of resources) {
    if (resource.Type !== 'AWS::SecretsManager::Secret') continue;
    const props = resource.Properties;
    const name = props.Name as string;
    let value: string;
    if (props.GenerateSecretString) {
      const gen = props.GenerateSecretString;
      value = random(gen.PasswordLength ?? 32, gen.ExcludePunctuation ? ALNUM : RDS_ALPHABET);
    } else if (name.includes('/providers/')) {
      value = `fake-${name.split('/').pop()}-${random(24, ALNUM)}`;
      providerKeys.set(name, value);
    } else if (properties.get(name)?.size) {
      value = JSON.stringify(Object.fromEntries([...properties.get(name)!].map((property) => [property, `system-test-${random(24, ALNUM)}`])));
    } else {
      value = `system-test-${random(24, ALNUM)}`;
    }
    await sm.send(new CreateSecretCommand({ Name: name, SecretString: value }));
    log(`seeded secret ${name} (${logicalId}, ${value.length} characters)`);
  }
  const aurora = resources.find(([, r]) => r.Type === 'AWS::RDS::DBCluster')?.[1];
  if (!aurora?.Properties?.ManageMasterUserPassword) throw new Error('rendered template: no AWS::RDS::DBCluster with ManageMasterUserPassword; the system test expects RDS to manage the master secret');
  const masterName = 'rds!cluster-system-test';
  await sm.send(new CreateSecretCommand({ Name: masterName, SecretString: JSON.stringify({ username: aurora.Properties.MasterUsername, password: random(28, RDS_ALPHABET) }) }));
  log(`seeded secret ${masterName} (the Aurora master secret RDS creates; username ${aurora.Properties.MasterUsername})`);
  const bucketResource = resources.find(([id]) => id === 'AttachmentsBucket')?.[1];
  const bucket = bucketResource?.Properties?.BucketName as string;
  if (!bucket) throw new Error('rendered template: no AttachmentsBucket with a BucketName');
  await s3.send(new CreateBucketCommand({ Bucket: bucket, CreateBucketConfiguration: region === 'us-east-1' ? undefined : { LocationConstraint: region as any } }));
  log(`created bucket ${bucket}`);

  const read: RemoteRead = async (key, property) => {
    let secretId = key;
    // The rendered ExternalSecrets name the RDS secret by the ARN the stack outputs; here it is moto's secret.
    if (key.startsWith('arn:') && key.includes(':secret:rds!')) {
      secretId = masterName;
      const line = `remoteRef key ${key} → moto secret ${masterName} (the ARN names the secret RDS creates; its random suffix is moto's here)`;
      if (!overrides.includes(line)) overrides.push(line);
    }
    const answer = await sm.send(new GetSecretValueCommand({ SecretId: secretId }));
    const text = answer.SecretString ?? '';
    if (property === undefined) return text;
    const json = JSON.parse(text) as Record<string, unknown>;
    if (!(property in json)) throw new Error(`secret ${key} has no property ${property}`);
    return String(json[property]);
  };
  return { read, providerKeys, bucket, s3, overrides };
}
