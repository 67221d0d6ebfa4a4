/**
 * Secrets Manager: generated values (never literal) for the keys the platform
 * makes itself, the IAM access key of the attachments-only user, and empty
 * placeholders a person fills with `npm run secrets -- set`. Every secret is
 * KMS-encrypted with the stack's key and retained when the stack goes away.
 * There is no rotation Lambda: values change through a reviewed change (and
 * the LiteLLM salt key must never change once set).
 */
import type { EnvConfig } from '../../generator/config/schema.js';
import { environmentSecrets, secretLogicalId, type EnvironmentSecret } from '../names.js';
import { allow, bucketArn, getAtt, ref, RETAIN, sub, tags, type CfnObject, type CfnResource, type Resources } from './cfn.js';

const ATTACHMENTS_USER = 'AttachmentsUser';
const ATTACHMENTS_ACCESS_KEY = 'AttachmentsUserAccessKey';

/** Bump to rotate the attachments user's access key (CloudFormation makes a new key and updates the secret). */
export const ATTACHMENTS_KEY_SERIAL = 1;

function secretValue(secret: EnvironmentSecret): CfnObject {
  switch (secret.kind) {
    case 'generated':
      // Alphanumeric so the values can go into URLs (redis://:<password>@...) unescaped.
      return { GenerateSecretString: { PasswordLength: 64, ExcludePunctuation: true, IncludeSpace: false } };
    case 'access-key':
      return {
        SecretString: sub(`{"accessKeyId":"\${${ATTACHMENTS_ACCESS_KEY}}","secretAccessKey":"\${${ATTACHMENTS_ACCESS_KEY}.SecretAccessKey}"}`),
      };
    default:
      // No SecretString and no GenerateSecretString: the secret is created empty.
      return {};
  }
}

export function secretResources(config: EnvConfig, stack: string): Resources {
  const resources: Resources = {};
  for (const secret of environmentSecrets(config)) {
    const logicalId = secretLogicalId(secret.reference);
    if (resources[logicalId]) throw new Error(`secrets ${secret.reference} and another one both map to the logical id ${logicalId}; rename one of them`);
    resources[logicalId] = {
      Type: 'AWS::SecretsManager::Secret',
      ...RETAIN,
      Properties: {
        Name: secret.name,
        Description: `${stack}: ${secret.description}`,
        KmsKeyId: ref('KmsKey'),
        ...secretValue(secret),
        Tags: tags(stack, secret.reference),
      },
    };
  }
  Object.assign(resources, attachmentsUser(config, stack));
  return resources;
}

/** Logical ids of every secret of the environment (the node reads all of them through External Secrets). */
export function secretLogicalIds(config: EnvConfig): string[] {
  return environmentSecrets(config).map((secret) => secretLogicalId(secret.reference));
}

/**
 * Open WebUI cannot use the node's instance profile (every pod is denied the
 * metadata address), so it gets an IAM user that can only use the attachments
 * bucket and the key that encrypts it.
 */
function attachmentsUser(_config: EnvConfig, stack: string): Record<string, CfnResource> {
  return {
    [ATTACHMENTS_USER]: {
      Type: 'AWS::IAM::User',
      Properties: {
        Path: '/dubai-hub/',
        Policies: [
          {
            PolicyName: 'attachments-bucket-only',
            PolicyDocument: {
              Version: '2012-10-17',
              Statement: [
                allow('ListAttachments', ['s3:ListBucket', 's3:GetBucketLocation'], [getAtt('AttachmentsBucket', 'Arn')]),
                allow('ReadWriteAttachments', ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'], [bucketArn('AttachmentsBucket', '/*')]),
                allow('UseBucketKey', ['kms:Decrypt', 'kms:GenerateDataKey'], [getAtt('KmsKey', 'Arn')], {
                  StringEquals: { 'kms:ViaService': sub('s3.${AWS::Region}.amazonaws.com') },
                }),
              ],
            },
          },
        ],
        Tags: tags(stack, 'attachments-user'),
      },
    },
    [ATTACHMENTS_ACCESS_KEY]: {
      Type: 'AWS::IAM::AccessKey',
      Properties: { UserName: ref(ATTACHMENTS_USER), Serial: ATTACHMENTS_KEY_SERIAL, Status: 'Active' },
    },
  };
}
