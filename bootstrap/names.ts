/**
 * Names the bootstrap stack, the node's user data and the scripts share:
 * the stack, its buckets, the kubeconfig object, the stack outputs and the
 * rendered file names. Bucket names are derived from the config, so they are
 * known before the stack exists and stay the same on every render.
 */
import type { EnvConfig } from '../generator/config/schema.js';
import { GENERATED_SECRETS, MANUAL_SECRETS, secretsManagerName } from '../generator/platform-names.js';
import { secretReferences } from '../generator/config/semantic-checks.js';

export const BOOTSTRAP_FOLDER = 'bootstrap';
export const TEMPLATE_FILE = 'template.yaml';
export const PARAMETERS_FILE = 'parameters.json';
/** The platform AppProject and root Application the node fetches from git at boot and applies once Argo CD runs. */
export const ARGOCD_BOOTSTRAP_FILE = 'argocd-bootstrap.yaml';
/** The files of rendered/<env>/argocd/ (Argo CD itself) the node applies first, one path relative to rendered/<env>/ per line. */
export const ARGOCD_INSTALL_FILE = 'argocd-install.txt';
/** Files of rendered/<env>/bootstrap/ that CloudFormation deploys: a change needs `npm run bootstrap`. */
export const STACK_FILES = [TEMPLATE_FILE, PARAMETERS_FILE] as const;

/** Path of the node's Argo CD bootstrap manifests in the repository. */
export function argocdBootstrapPath(config: EnvConfig): string {
  return `rendered/${config.name}/${BOOTSTRAP_FOLDER}/${ARGOCD_BOOTSTRAP_FILE}`;
}

/** Path of the list of Argo CD's own files the node applies first. */
export function argocdInstallPath(config: EnvConfig): string {
  return `rendered/${config.name}/${BOOTSTRAP_FOLDER}/${ARGOCD_INSTALL_FILE}`;
}

/** Object the node uploads its kubeconfig to, in the kubeconfig bucket. */
export const KUBECONFIG_KEY = 'k3s/k3s.yaml';
/** Where in the etcd bucket K3s writes its snapshots. */
export const ETCD_SNAPSHOT_FOLDER = 'etcd';

export function stackName(config: EnvConfig): string {
  return `dubai-${config.name}`;
}

export const BUCKET_PURPOSES = {
  attachments: 'attachments',
  longhornBackups: 'longhorn-backups',
  etcdSnapshots: 'etcd-snapshots',
  kubeconfig: 'kubeconfig',
  accessLogs: 'access-logs',
} as const;
export type BucketKey = keyof typeof BUCKET_PURPOSES;

/** dubai-dev-attachments-210987654321: unique per account, at most 63 characters. */
export function bucketName(config: EnvConfig, bucket: BucketKey): string {
  return `${stackName(config)}-${BUCKET_PURPOSES[bucket]}-${config.aws.accountId}`;
}

/**
 * Logical ids of the K3s servers. Server 1 keeps the single node's ids, so an
 * environment that grows from one node to three keeps its first server (and
 * its etcd) instead of replacing it.
 */
export function serverLogicalIds(index: number): { instance: string; dataVolume: string; attachment: string } {
  if (index === 1) return { instance: 'NodeInstance', dataVolume: 'NodeDataVolume', attachment: 'NodeDataVolumeAttachment' };
  return { instance: `Server${index}Instance`, dataVolume: `Server${index}DataVolume`, attachment: `Server${index}DataVolumeAttachment` };
}

/** Tailnet and Kubernetes node name of server `index`: hostnames.node for the first, hostnames.node-<n> for the others. */
export function serverNodeName(config: EnvConfig, index: number): string {
  return index === 1 ? config.hostnames.node : `${config.hostnames.node}-${index}`;
}

/** Prefix of the agents' node names; each agent appends its instance id. */
export function agentNodeNamePrefix(config: EnvConfig): string {
  return `${config.hostnames.node}-agent`;
}

/**
 * Marker the first server writes next to the kubeconfig once the cluster
 * exists: a replaced first server then joins the running servers instead of
 * starting a second cluster.
 */
export const CLUSTER_MARKER_KEY = 'k3s/cluster-initialized';

/** Stack outputs the scripts read (no secret values, only names, endpoints and ARNs). */
export const OUTPUTS = {
  auroraEndpoint: 'AuroraEndpoint',
  auroraPort: 'AuroraPort',
  auroraMasterUserSecretArn: 'AuroraMasterUserSecretArn',
  attachmentsBucket: 'AttachmentsBucket',
  longhornBackupsBucket: 'LonghornBackupsBucket',
  etcdSnapshotsBucket: 'EtcdSnapshotsBucket',
  kubeconfigBucket: 'KubeconfigBucket',
  nodeInstanceId: 'NodeInstanceId',
  secretsPrefix: 'SecretsPrefix',
  kmsKeyArn: 'KmsKeyArn',
} as const;

export type SecretKind = 'generated' | 'manual' | 'provider' | 'access-key';

export interface EnvironmentSecret {
  /** Name relative to secretsManager.prefix. */
  reference: string;
  /** Full Secrets Manager name. */
  name: string;
  kind: SecretKind;
  description: string;
}

const GENERATED_DESCRIPTIONS: Record<keyof typeof GENERATED_SECRETS, string> = {
  openWebUISecretKey: 'Open WebUI WEBUI_SECRET_KEY (generated)',
  litellmMasterKey: 'LiteLLM master key without its sk- prefix (generated)',
  litellmSaltKey: 'LiteLLM salt key; must never change once set (generated)',
  redisPassword: 'Valkey password (generated)',
  k3sToken: 'K3s server token; a restore on a new node needs it (generated)',
  openWebUIS3Credentials: 'JSON {accessKeyId, secretAccessKey} of the IAM user limited to the attachments bucket',
  grafanaAdminPassword: 'Grafana admin password (generated)',
};

const MANUAL_DESCRIPTIONS: Record<keyof typeof MANUAL_SECRETS, string> = {
  tailscaleOAuth: 'Tailscale operator OAuth client, JSON {client_id, client_secret}; set with npm run secrets',
  tailscaleAuthKey: 'Tailscale auth key the node joins the tailnet with; set with npm run secrets',
};

/** Every Secrets Manager secret of the environment, sorted by name. */
export function environmentSecrets(config: EnvConfig): EnvironmentSecret[] {
  const secrets = new Map<string, EnvironmentSecret>();
  const add = (reference: string, kind: SecretKind, description: string) => {
    if (!secrets.has(reference)) secrets.set(reference, { reference, name: secretsManagerName(config, reference), kind, description });
  };
  for (const [key, reference] of Object.entries(GENERATED_SECRETS) as [keyof typeof GENERATED_SECRETS, string][]) {
    add(reference, key === 'openWebUIS3Credentials' ? 'access-key' : 'generated', GENERATED_DESCRIPTIONS[key]);
  }
  for (const [key, reference] of Object.entries(MANUAL_SECRETS) as [keyof typeof MANUAL_SECRETS, string][]) {
    add(reference, 'manual', MANUAL_DESCRIPTIONS[key]);
  }
  for (const { name } of secretReferences(config)) add(name, 'provider', 'Provider, SSO or git repository credential; set with npm run secrets');
  return [...secrets.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Secrets a person sets by hand with `npm run secrets -- set`. */
export function settableSecrets(config: EnvConfig): EnvironmentSecret[] {
  return environmentSecrets(config).filter((secret) => secret.kind === 'manual' || secret.kind === 'provider');
}

/** CloudFormation logical id of a secret: providers/openai → SecretProvidersOpenai. */
export function secretLogicalId(reference: string): string {
  return `Secret${reference
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((part) => part[0]!.toUpperCase() + part.slice(1).toLowerCase())
    .join('')}`;
}
