/**
 * What a deleted stack leaves behind, and how a new stack adopts it.
 *
 * The buckets, the secrets and the KMS key are retained when the stack is
 * deleted (RetainExceptOnCreate), and the buckets and secrets keep fixed
 * names, so creating the stack again clashes with them ("already exists").
 * The re-creation imports them instead (a change set of type IMPORT with
 * ResourcesToImport), then updates the stack to the full template. Import
 * was chosen over names that change per stack: the data stays where it is,
 * under the names the generator, the node and the outputs file already use,
 * and nothing has to be copied.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { DescribeSecretCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DescribeKeyCommand, ListKeysCommand, type KMSClient } from '@aws-sdk/client-kms';
import type { ResourceToImport } from '@aws-sdk/client-cloudformation';
import type { CfnResource, CfnTemplate } from '../template/cfn.js';
import { errorName } from './errors.js';
import { bucketExists } from './template-upload.js';

export interface RetainedResource {
  logicalId: string;
  type: string;
  /** What CloudFormation identifies it by on import (BucketName, Id, KeyId). */
  identifier: Record<string, string>;
  /** For people: the bucket or secret name, or the key id. */
  name: string;
}

/** Resource types the stack retains, and the property their name is in (the key has none). */
const RETAINED_TYPES = ['AWS::S3::Bucket', 'AWS::SecretsManager::Secret', 'AWS::KMS::Key'];

const isRetained = (resource: CfnResource) => RETAINED_TYPES.includes(resource.Type) && (resource.DeletionPolicy === 'Retain' || resource.DeletionPolicy === 'RetainExceptOnCreate');

export interface RetainedClients {
  s3: S3Client;
  secrets: SecretsManagerClient;
  kms: KMSClient;
}


async function secretArn(secrets: SecretsManagerClient, name: string): Promise<string | undefined> {
  try {
    const described = await secrets.send(new DescribeSecretCommand({ SecretId: name }));
    // A secret scheduled for deletion cannot be imported; restore it first (aws secretsmanager restore-secret).
    return described.DeletedDate ? undefined : described.ARN;
  } catch (error) {
    if (errorName(error) === 'ResourceNotFoundException') return undefined;
    throw error;
  }
}

/** Enabled keys whose description is the stack's (the alias is deleted with the stack; the description stays). */
async function retainedKeys(kms: KMSClient, description: string): Promise<string[]> {
  const found: string[] = [];
  let Marker: string | undefined;
  do {
    const page = await kms.send(new ListKeysCommand({ Marker }));
    for (const key of page.Keys ?? []) {
      const described = await kms.send(new DescribeKeyCommand({ KeyId: key.KeyId }));
      const metadata = described.KeyMetadata;
      if (metadata?.Description === description && metadata.KeyState === 'Enabled' && metadata.KeyManager === 'CUSTOMER') found.push(metadata.KeyId!);
    }
    Marker = page.Truncated ? page.NextMarker : undefined;
  } while (Marker);
  return found.sort();
}

export class AmbiguousKey extends Error {}

/** The retained resources of `template` that exist now, to be imported. */
export async function findRetained(template: CfnTemplate, clients: RetainedClients, keyId?: string): Promise<RetainedResource[]> {
  const found: RetainedResource[] = [];
  for (const [logicalId, resource] of Object.entries(template.Resources).filter(([, resource]) => isRetained(resource))) {
    const properties = resource.Properties ?? {};
    if (resource.Type === 'AWS::S3::Bucket') {
      const bucket = properties['BucketName'] as string;
      if (await bucketExists(clients.s3, bucket)) found.push({ logicalId, type: resource.Type, identifier: { BucketName: bucket }, name: bucket });
    } else if (resource.Type === 'AWS::SecretsManager::Secret') {
      const name = properties['Name'] as string;
      const arn = await secretArn(clients.secrets, name);
      if (arn) found.push({ logicalId, type: resource.Type, identifier: { Id: arn }, name });
    } else {
      const keys = keyId ? [keyId] : await retainedKeys(clients.kms, properties['Description'] as string);
      if (keys.length > 1) throw new AmbiguousKey(`${keys.length} enabled KMS keys carry the description "${String(properties['Description'])}": ${keys.join(', ')}`);
      if (keys.length === 1) found.push({ logicalId, type: resource.Type, identifier: { KeyId: keys[0]! }, name: keys[0]! });
    }
  }
  return found;
}

export function resourcesToImport(retained: RetainedResource[]): ResourceToImport[] {
  return retained.map((resource) => ({ ResourceType: resource.type, LogicalResourceId: resource.logicalId, ResourceIdentifier: resource.identifier }));
}

function references(value: unknown, found = new Set<string>()): Set<string> {
  if (Array.isArray(value)) value.forEach((item) => references(item, found));
  else if (value && typeof value === 'object') {
    const object = value as Record<string, unknown>;
    if (typeof object['Ref'] === 'string') found.add(object['Ref']);
    const getAtt = object['Fn::GetAtt'];
    if (Array.isArray(getAtt) && typeof getAtt[0] === 'string') found.add(getAtt[0]);
    const text = object['Fn::Sub'];
    if (typeof text === 'string') for (const match of text.matchAll(/\$\{([A-Za-z0-9]+)(\.[A-Za-z.]+)?\}/g)) found.add(match[1]!);
    Object.values(object).forEach((item) => references(item, found));
  }
  return found;
}

/**
 * The template of the IMPORT change set: only the resources to import (an
 * import cannot create anything else), each with its DeletionPolicy (import
 * requires one), without the properties that refer to resources the import
 * does not have yet (e.g. a secret's value made from an access key or a
 * bucket's replication through a role), with only the parameters those
 * still use, and without outputs. The update that follows applies the full template.
 */
export function importTemplate(template: CfnTemplate, retained: RetainedResource[]): CfnTemplate {
  const kept = new Set(retained.map((resource) => resource.logicalId));
  const parameters = new Set(Object.keys(template.Parameters));
  const resolvable = (name: string) => kept.has(name) || parameters.has(name) || name.startsWith('AWS::');
  const resources: CfnTemplate['Resources'] = {};
  for (const id of kept) {
    const { DependsOn: _dependsOn, Properties = {}, ...rest } = template.Resources[id]!;
    const properties = Object.fromEntries(Object.entries(Properties).filter(([, value]) => [...references(value)].every(resolvable)));
    resources[id] = { ...rest, Properties: properties };
  }
  // Only the parameters the imported resources still use: a parameter without a value (the replica key's ARN,
  // which the bootstrap looks up in the replica region) would make the import fail.
  const used = references(resources);
  const keptParameters = Object.fromEntries(Object.entries(template.Parameters).filter(([name]) => used.has(name)));
  return { ...template, Description: `${template.Description} (import of the retained resources)`, Parameters: keptParameters, Resources: resources, Outputs: {} };
}
