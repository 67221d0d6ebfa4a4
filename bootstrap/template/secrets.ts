/**
 * Secrets Manager: generated values (never literal) for the keys the platform
 * makes itself, and empty secrets a person fills with `npm run secrets --
 * set` or the first server fills (its service-account signing key). No IAM
 * user or access key: pods use workload identity (bootstrap/template/identity.ts). Every secret is
 * KMS-encrypted with the stack's key and retained when the stack goes away.
 * There is no rotation Lambda: values change through a reviewed change (and
 * the LiteLLM salt key must never change once set).
 */
import type { EnvConfig } from '../../generator/config/schema.js';
import { environmentSecrets, secretLogicalId, type EnvironmentSecret } from '../names.js';
import { ref, RETAIN, tags, type CfnObject, type Resources } from './cfn.js';

function secretValue(secret: EnvironmentSecret): CfnObject {
  switch (secret.kind) {
    case 'generated':
      // Alphanumeric so the values can go into URLs (redis://:<password>@...) unescaped.
      return { GenerateSecretString: { PasswordLength: 64, ExcludePunctuation: true, IncludeSpace: false } };
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
  return resources;
}

/** Logical ids of every secret of the environment. */
export function secretLogicalIds(config: EnvConfig): string[] {
  return environmentSecrets(config).map((secret) => secretLogicalId(secret.reference));
}
