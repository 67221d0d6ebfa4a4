/**
 * Names shared between the generator, the Argo CD layer and the AWS bootstrap:
 * namespaces, the secret store, the storage class, and the Secrets Manager
 * names the bootstrap stack creates and the ExternalSecrets read.
 */
import type { EnvConfig } from './config/schema.js';

export const PART_OF = 'dubai-ai-hub';
export const MANAGED_BY = 'dubai-hub-generator';

/** ClusterSecretStore for AWS Secrets Manager (rendered by the external-secrets add-on). */
export const CLUSTER_SECRET_STORE = 'aws-secrets-manager';

/** Longhorn StorageClass with reclaimPolicy Retain (rendered by the longhorn add-on). */
export const STORAGE_CLASS = 'longhorn-retain';

export const NAMESPACES = {
  openWebUI: 'open-webui',
  litellm: 'litellm',
  redis: 'redis',
  database: 'database',
  /** Where the Tailscale operator runs its ingress proxies. */
  tailscale: 'tailscale',
  kubeSystem: 'kube-system',
  /** Platform add-ons (each rendered by its own Argo CD Application). */
  argocd: 'argocd',
  externalSecrets: 'external-secrets',
  longhorn: 'longhorn-system',
  certManager: 'cert-manager',
  /** Prometheus, Alertmanager and the exporters (the monitoring add-on). */
  monitoring: 'monitoring',
  /** node-exporter alone: the one pod that reads the host (privileged namespace, docs/observability.md). */
  nodeExporter: 'monitoring-node',
  /** The system-upgrade-controller and its K3s upgrade Plans (the one privileged namespace). */
  systemUpgrade: 'system-upgrade',
  /** Grafana and its dashboards (the grafana add-on). */
  grafana: 'grafana',
  /** The log store and its collector (the logging add-on). */
  logging: 'logging',
  /** Reloader: restarts the workloads that read the RDS-managed Aurora password when it rotates (the reloader add-on). */
  reloader: 'reloader',
} as const;

/** Secrets the bootstrap stack generates, relative to secretsManager.prefix. */
export const GENERATED_SECRETS = {
  openWebUISecretKey: 'openwebui/secret-key',
  litellmMasterKey: 'litellm/master-key',
  litellmSaltKey: 'litellm/salt-key',
  redisPassword: 'redis/password',
  k3sToken: 'k3s/token',
  /** Password of Grafana's admin user. */
  grafanaAdminPassword: 'grafana/admin-password',
} as const;

/**
 * Secrets the stack creates empty and a node fills: the service-account
 * signing key the first server generates at first boot (docs/workload-identity.md).
 */
export const NODE_SECRETS = {
  serviceAccountSigningKey: 'k3s/sa-signing-key',
} as const;

/**
 * Secrets a person stores by hand (`npm run secrets -- set`); the bootstrap
 * stack creates them empty.
 */
export const MANUAL_SECRETS = {
  tailscaleOAuth: 'tailscale/operator-oauth',
  tailscaleAuthKey: 'tailscale/node-auth-key',
  /** The https:// webhook URL Alertmanager sends every alert to (a Slack incoming webhook or any webhook receiver). */
  alertmanagerWebhook: 'monitoring/alertmanager-webhook',
} as const;

/** Full Secrets Manager name of a reference relative to the environment's prefix. */
export function secretsManagerName(config: EnvConfig, reference: string): string {
  return `${config.secretsManager.prefix}${reference}`;
}

/** Environment variable LiteLLM reads a provider key from: providers/openai → PROVIDER_KEY_PROVIDERS_OPENAI. */
export function providerKeyEnvName(reference: string): string {
  return `PROVIDER_KEY_${reference.toUpperCase().replace(/[^A-Z0-9]+/g, '_').replace(/^_+|_+$/g, '')}`;
}

/**
 * Folder of the backup bucket Longhorn writes under: its backup target and the
 * node role's S3 permissions must name the same one.
 */
export const LONGHORN_BACKUP_PREFIX = 'longhorn';

/** Folder of the attachments bucket Open WebUI writes under: its S3_KEY_PREFIX and its role's S3 permissions. */
export const ATTACHMENTS_PREFIX = 'open-webui';

/** Databases on the Aurora cluster. */
export const DATABASES = { openWebUI: 'openwebui', litellm: 'litellm' } as const;

/** In-cluster DNS name of a Service. */
export function serviceHost(name: string, namespace: string): string {
  return `${name}.${namespace}.svc.cluster.local`;
}

export function openWebUIHost(config: EnvConfig): string {
  return `${config.hostnames.openWebUI}.${config.hostnames.tailnetDomain}`;
}
