/**
 * Names the bootstrap stack, the node's user data and the scripts share:
 * the stack, its buckets, the kubeconfig object, the stack outputs and the
 * rendered file names. Bucket names are derived from the config, so they are
 * known before the stack exists and stay the same on every render.
 */
import type { EnvConfig } from '../generator/config/schema.js';
import { GENERATED_SECRETS, MANUAL_SECRETS, NAMESPACES, NODE_SECRETS, secretsManagerName } from '../generator/platform-names.js';
import { secretReferences } from '../generator/config/semantic-checks.js';

export const BOOTSTRAP_FOLDER = 'bootstrap';
export const TEMPLATE_FILE = 'template.yaml';
export const PARAMETERS_FILE = 'parameters.json';
/** The platform AppProject and root Application the node fetches from git at boot and applies once Argo CD runs. */
export const ARGOCD_BOOTSTRAP_FILE = 'argocd-bootstrap.yaml';
/** The files of rendered/<env>/argocd/ (Argo CD itself) the node applies first, one path relative to rendered/<env>/ per line. */
export const ARGOCD_INSTALL_FILE = 'argocd-install.txt';
/** The replica stack's template (only with backups.replication; bootstrap/template/replica.ts). */
export const REPLICA_TEMPLATE_FILE = 'replica.yaml';
/** Files of rendered/<env>/bootstrap/ that CloudFormation deploys: a change needs `npm run bootstrap`. */
export const STACK_FILES = [TEMPLATE_FILE, PARAMETERS_FILE, REPLICA_TEMPLATE_FILE] as const;

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
export function serverLogicalIds(index: number, generation = 1): { instance: string; dataVolume: string; attachment: string } {
  // A later generation (cluster.serverGenerations, written by `npm run ops -- recover-node`) renames the
  // instance and its attachment, so CloudFormation creates a new instance for a lost one; the volume stays.
  const suffix = generation > 1 ? `G${generation}` : '';
  if (index === 1) return { instance: `NodeInstance${suffix}`, dataVolume: 'NodeDataVolume', attachment: `NodeDataVolumeAttachment${suffix}` };
  return { instance: `Server${index}Instance${suffix}`, dataVolume: `Server${index}DataVolume`, attachment: `Server${index}DataVolumeAttachment${suffix}` };
}

/** Generation of server `index` (cluster.serverGenerations; 1 when not listed). */
export function serverGeneration(config: EnvConfig, index: number): number {
  return config.cluster.serverGenerations.find((entry) => entry.server === index)?.generation ?? 1;
}

/** The logical ids of server `index` at its current generation. */
export function currentServerIds(config: EnvConfig, index: number): { instance: string; dataVolume: string; attachment: string } {
  return serverLogicalIds(index, serverGeneration(config, index));
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
  externalSecretsRoleArn: 'ExternalSecretsRoleArn',
  longhornRoleArn: 'LonghornRoleArn',
  openWebUIRoleArn: 'OpenWebUIRoleArn',
  certManagerRoleArn: 'CertManagerRoleArn',
  oidcIssuer: 'OidcIssuer',
} as const;

/**
 * Workload identity (docs/workload-identity.md): the bucket that publishes the
 * cluster's OIDC discovery document and keys, the issuer URL (that bucket's
 * HTTPS address), and one IAM role per component that calls AWS, each trusted
 * for exactly one service account.
 */
export function oidcBucketName(config: EnvConfig): string {
  return `${stackName(config)}-oidc-${config.aws.accountId}`;
}

/** The issuer K3s puts in service-account tokens and IAM trusts: https://<bucket>.s3.<region>.amazonaws.com. */
export function oidcIssuer(config: EnvConfig): string {
  return `https://${oidcBucketName(config)}.s3.${config.aws.region}.amazonaws.com`;
}

/** The two objects of the OIDC bucket that are public (nothing else is). */
export const OIDC_DOCUMENTS = { discovery: '.well-known/openid-configuration', jwks: 'openid/v1/jwks' } as const;

/** The audience every web-identity token is requested for. */
export const STS_AUDIENCE = 'sts.amazonaws.com';

export interface WorkloadIdentity {
  namespace: string;
  serviceAccount: string;
  /** Suffix of the role name: <stack>-<role>. */
  role: string;
  output: string;
}

export const WORKLOAD_IDENTITIES = {
  externalSecrets: { namespace: NAMESPACES.externalSecrets, serviceAccount: 'external-secrets', role: 'external-secrets', output: 'ExternalSecretsRoleArn' },
  longhorn: { namespace: NAMESPACES.longhorn, serviceAccount: 'longhorn-service-account', role: 'longhorn', output: 'LonghornRoleArn' },
  openWebUI: { namespace: NAMESPACES.openWebUI, serviceAccount: 'open-webui', role: 'open-webui', output: 'OpenWebUIRoleArn' },
  certManager: { namespace: NAMESPACES.certManager, serviceAccount: 'cert-manager', role: 'cert-manager', output: 'CertManagerRoleArn' },
} as const satisfies Record<string, WorkloadIdentity>;
export type WorkloadKey = keyof typeof WORKLOAD_IDENTITIES;

/** cert-manager calls AWS only for DNS-01, i.e. only with a public ingress in a Route 53 zone. */
export function workloadKeys(config: EnvConfig): WorkloadKey[] {
  const keys: WorkloadKey[] = ['externalSecrets', 'longhorn', 'openWebUI'];
  if (config.publicIngress.enabled && config.publicIngress.route53HostedZoneId) keys.push('certManager');
  return keys;
}

export function workloadRoleName(config: EnvConfig, key: WorkloadKey): string {
  return `${stackName(config)}-${WORKLOAD_IDENTITIES[key].role}`;
}

export function workloadRoleArn(config: EnvConfig, key: WorkloadKey): string {
  return `arn:aws:iam::${config.aws.accountId}:role/${workloadRoleName(config, key)}`;
}

export type SecretKind = 'generated' | 'manual' | 'provider' | 'node';

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
  grafanaAdminPassword: 'Grafana admin password (generated)',
};

const NODE_DESCRIPTIONS: Record<keyof typeof NODE_SECRETS, string> = {
  serviceAccountSigningKey: 'PEM private key K3s signs service-account tokens with; generated by the first server at first boot',
};

const MANUAL_DESCRIPTIONS: Record<keyof typeof MANUAL_SECRETS, string> = {
  tailscaleOAuth: 'Tailscale operator OAuth client, JSON {client_id, client_secret}; set with npm run secrets',
  tailscaleAuthKey: 'Tailscale auth key the node joins the tailnet with; set with npm run secrets',
  alertmanagerWebhook: 'https:// webhook URL Alertmanager notifies (e.g. a Slack incoming webhook); set with npm run secrets',
};

/** Every Secrets Manager secret of the environment, sorted by name. */
export function environmentSecrets(config: EnvConfig): EnvironmentSecret[] {
  const secrets = new Map<string, EnvironmentSecret>();
  const add = (reference: string, kind: SecretKind, description: string) => {
    if (!secrets.has(reference)) secrets.set(reference, { reference, name: secretsManagerName(config, reference), kind, description });
  };
  for (const [key, reference] of Object.entries(GENERATED_SECRETS) as [keyof typeof GENERATED_SECRETS, string][]) {
    add(reference, 'generated', GENERATED_DESCRIPTIONS[key]);
  }
  for (const [key, reference] of Object.entries(NODE_SECRETS) as [keyof typeof NODE_SECRETS, string][]) {
    add(reference, 'node', NODE_DESCRIPTIONS[key]);
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

/**
 * Cross-region replication (backups.replication, docs/backups-and-replication.md):
 * a second small stack in the replica region holds one replica bucket per
 * replicated bucket and the KMS key of that region that encrypts them.
 */
export function replicaStackName(config: EnvConfig): string {
  return `${stackName(config)}-replica`;
}

/** dubai-prod-etcd-snapshots-replica-210987654323 (at most 60 characters: names are at most 16). */
export function replicaBucketName(config: EnvConfig, bucket: BucketKey): string {
  return `${stackName(config)}-${BUCKET_PURPOSES[bucket]}-replica-${config.aws.accountId}`;
}

/** Outputs of the replica stack the bootstrap reads. */
export const REPLICA_OUTPUTS = { kmsKeyArn: 'ReplicaKmsKeyArn' } as const;
