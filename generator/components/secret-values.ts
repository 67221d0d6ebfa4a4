/**
 * The Secrets Manager values components read, and the ESO templates that turn
 * them into what the applications expect. Shared so that Open WebUI and
 * LiteLLM build the master key and URLs the same way.
 */
import type { BootstrapOutputs, EnvConfig } from '../config/schema.js';
import { postgresUrlTemplate, type RemoteValue } from '../k8s/external-secret.js';
import { GENERATED_SECRETS, NAMESPACES, secretsManagerName, serviceHost } from '../platform-names.js';
import { PORTS } from './shared-flows.js';

export function litellmMasterKey(config: EnvConfig): RemoteValue {
  return { secretKey: 'litellmMasterKey', remoteKey: secretsManagerName(config, GENERATED_SECRETS.litellmMasterKey) };
}

/** LiteLLM requires its master key to start with "sk-"; the stored value is random only. */
export const MASTER_KEY_TEMPLATE = 'sk-{{ .litellmMasterKey }}';

export function redisPassword(config: EnvConfig): RemoteValue {
  return { secretKey: 'redisPassword', remoteKey: secretsManagerName(config, GENERATED_SECRETS.redisPassword) };
}

export const REDIS_HOST = serviceHost('redis', NAMESPACES.redis);

export function redisUrlTemplate(database: number): string {
  return `redis://:{{ .redisPassword | urlquery }}@${REDIS_HOST}:${PORTS.redis}/${database}`;
}

/**
 * RDS rotates the managed master password by itself (every 7 days by
 * default); the old password stops working then. The Secrets holding it are
 * re-read this often, so new connections use the new one within minutes.
 */
export const AURORA_CREDENTIALS_REFRESH = '5m';

/** Username and password of the RDS-managed Aurora master user secret. */
export function auroraCredentials(outputs: BootstrapOutputs): RemoteValue[] {
  return [
    { secretKey: 'dbUsername', remoteKey: outputs.aurora.masterUserSecretArn, property: 'username', refreshInterval: AURORA_CREDENTIALS_REFRESH },
    { secretKey: 'dbPassword', remoteKey: outputs.aurora.masterUserSecretArn, property: 'password', refreshInterval: AURORA_CREDENTIALS_REFRESH },
  ];
}

export function databaseUrlTemplate(outputs: BootstrapOutputs, database: string): string {
  return postgresUrlTemplate(outputs.aurora.endpoint, outputs.aurora.port, database, 'dbUsername', 'dbPassword');
}
