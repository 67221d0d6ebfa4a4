/**
 * The node's user data: bootstrap/node/user-data.sh with the environment's
 * values filled in. EC2 takes at most 16 KB of user data; rendering fails
 * above that. No chart version or chart value goes in: the node fetches the
 * Argo CD bootstrap manifests (rendered/<env>/bootstrap/argocd-bootstrap.yaml)
 * from git at git.targetRevision, so a chart bump never changes the instance.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { REPOSITORY_SECRET } from '../../generator/addons/argocd.js';
import { ARGOCD_FIELD_MANAGER, ARGOCD_NAMESPACE } from '../../generator/argocd/bootstrap-manifests.js';
import type { EnvConfig } from '../../generator/config/schema.js';
import { GENERATED_SECRETS, MANUAL_SECRETS, NODE_SECRETS, secretsManagerName } from '../../generator/platform-names.js';
import { isHighlyAvailable } from '../../generator/cluster/topology.js';
import { agentNodeNamePrefix, argocdBootstrapPath, argocdInstallPath, bucketName, CLUSTER_MARKER_KEY, ETCD_SNAPSHOT_FOLDER, KUBECONFIG_KEY, oidcBucketName, oidcIssuer, serverGeneration, serverNodeName } from '../names.js';
import { getAtt, type CfnValue } from './cfn.js';
import { formatSoftwareSourceIssues, softwareSourceIssues } from './user-data-sources.js';

const SOURCE_PATH = join('bootstrap', 'node', 'user-data.sh');

/**
 * bootstrap/node/user-data.sh, found from this module upwards: the generator
 * may run from a bundle elsewhere in the checkout (e.g. a build cache), where
 * a path relative to this file would not exist.
 */
export function userDataSourcePath(from = fileURLToPath(import.meta.url)): string {
  for (let dir = dirname(from); ; dir = dirname(dir)) {
    const candidate = join(dir, SOURCE_PATH);
    if (existsSync(candidate)) return candidate;
    if (dirname(dir) === dir) throw new UserDataError(`cannot find ${SOURCE_PATH} in any folder above ${from}`);
  }
}
export const USER_DATA_LIMIT_BYTES = 16 * 1024;
const ENVIRONMENT_MARKER = '# @@ENVIRONMENT@@';

/**
 * The K3s install script the node runs: k3s-io/k3s's install.sh at a fixed
 * commit and its sha256 (the repository's install.sh.sha256sum at that
 * commit). The script then installs `k3s.version` and checks the binary
 * against that release's sha256sum file.
 */
const K3S_INSTALLER_COMMIT = '019b0afdd830e36f5e4b7a5b237e6a4339e6a6be';
export const K3S_INSTALLER = {
  // One URL, not a bare commit variable: a lone 40-character token reads as an AWS secret key to checkov (CKV_AWS_46).
  url: `https://raw.githubusercontent.com/k3s-io/k3s/${K3S_INSTALLER_COMMIT}/install.sh`,
  sha256: '68ae766b4c4fd2c8032f712cdd346c8f9d1ae60eaeb4736a1155effda44ea23d',
} as const;

/**
 * Tailscale's package repository and the key the node trusts for it
 * (docs/node-software.md). The fingerprint is the Tailscale Inc. package
 * repository signing key (RSA 4096, 2020); Tailscale publishes no page with
 * it that is reachable from here, so it was taken from independent public
 * configurations that pin it (provenance in docs/node-software.md). Written
 * in groups of four as gpg prints it: a lone 40-character token reads as an
 * AWS secret key to checkov (CKV_AWS_46). The node compares it without spaces.
 */
export const TAILSCALE_REPOSITORY = {
  url: 'https://pkgs.tailscale.com/stable',
  keyFingerprint: '2596 A99E AAB3 3821 893C 0A79 458C A832 957F 5868',
} as const;

/** A shell word that stays literal: 'value' with embedded quotes escaped. */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** Which node a user data is for: server `index` (1 is the first) or an agent of the Auto Scaling group. */
export type NodeSpec = { role: 'server'; index: number } | { role: 'agent' };
export const FIRST_SERVER: NodeSpec = { role: 'server', index: 1 };

/** Logical id of the internal Network Load Balancer that is the cluster's fixed registration address. */
export const REGISTRATION_LOAD_BALANCER = 'RegistrationLoadBalancer';

/** Whether nodes join through a registration address: several servers, or any agents. */
export function hasRegistrationAddress(config: EnvConfig): boolean {
  return isHighlyAvailable(config) || config.cluster.agents.max > 0;
}

/** Stands for the load balancer's DNS name until the template joins the real one in (Fn::Join). */
const REGISTRATION_MARKER = '@@REGISTRATION_ADDRESS@@';
/** Room kept for that DNS name when checking the size limit (internal NLB names are far shorter). */
const REGISTRATION_ADDRESS_ALLOWANCE = 128;

/**
 * The etcd snapshot the first server restores (cluster.etcdRestore, written by
 * `npm run ops -- recover-cluster`): only for server 1 at the generation named
 * there, so a later replacement of that server does not restore again.
 */
export function etcdRestoreSnapshot(config: EnvConfig, node: NodeSpec): string | undefined {
  const restore = config.cluster.etcdRestore;
  if (!restore || node.role !== 'server' || node.index !== 1 || serverGeneration(config, 1) !== restore.generation) return undefined;
  return restore.snapshot;
}

export function userDataVariables(config: EnvConfig, node: NodeSpec = FIRST_SERVER): Record<string, string> {
  const restore = etcdRestoreSnapshot(config, node);
  return {
    // Only when restoring: every other node's user data stays as it was.
    ...(restore ? { ETCD_RESTORE_SNAPSHOT: restore } : {}),
    ENV_NAME: config.name,
    AWS_REGION: config.aws.region,
    K3S_VERSION: config.k3s.version,
    K3S_INSTALLER_URL: K3S_INSTALLER.url,
    K3S_INSTALLER_SHA256: K3S_INSTALLER.sha256,
    TAILSCALE_VERSION: config.node.tailscale.version,
    TAILSCALE_REPO: TAILSCALE_REPOSITORY.url,
    TAILSCALE_KEY_FINGERPRINT: TAILSCALE_REPOSITORY.keyFingerprint,
    NODE_ROLE: node.role,
    SERVER_INDEX: node.role === 'server' ? String(node.index) : '0',
    SERVER_COUNT: String(config.cluster.servers),
    NODE_NAME: node.role === 'server' ? serverNodeName(config, node.index) : agentNodeNamePrefix(config),
    TAILNET_DOMAIN: config.hostnames.tailnetDomain,
    REGISTRATION_ADDRESS: hasRegistrationAddress(config) ? REGISTRATION_MARKER : '',
    CLUSTER_MARKER_KEY,
    K3S_TOKEN_SECRET: secretsManagerName(config, GENERATED_SECRETS.k3sToken),
    TAILSCALE_AUTH_KEY_SECRET: secretsManagerName(config, MANUAL_SECRETS.tailscaleAuthKey),
    ETCD_BUCKET: bucketName(config, 'etcdSnapshots'),
    ETCD_FOLDER: ETCD_SNAPSHOT_FOLDER,
    KUBECONFIG_BUCKET: bucketName(config, 'kubeconfig'),
    KUBECONFIG_KEY,
    // Workload identity (docs/workload-identity.md): the servers sign service-account tokens with one
    // key from Secrets Manager; the first server publishes the issuer's discovery document and keys.
    SA_KEY_SECRET: secretsManagerName(config, NODE_SECRETS.serviceAccountSigningKey),
    OIDC_ISSUER: oidcIssuer(config),
    OIDC_BUCKET: oidcBucketName(config),
    // A private repository: the node seeds Argo CD's repository Secret once, so the first sync can
    // read the repository; External Secrets then takes the Secret over (it has no owner yet).
    REPO_URL: config.git.repoURL,
    // What the node applies to hand over to Argo CD, read from git (never embedded here).
    GIT_REVISION: config.git.targetRevision,
    ARGOCD_BOOTSTRAP_PATH: argocdBootstrapPath(config),
    ARGOCD_INSTALL_PATH: argocdInstallPath(config),
    ARGOCD_FIELD_MANAGER,
    REPO_CREDENTIALS_SECRET: config.git.credentialsSecret ? secretsManagerName(config, config.git.credentialsSecret) : '',
    REPO_SECRET_NAME: REPOSITORY_SECRET,
    ARGOCD_NAMESPACE,
    // Traefik is only needed to serve a public ingress; the tailnet ingress is the Tailscale operator's.
    DISABLE_TRAEFIK: config.publicIngress.enabled ? 'false' : 'true',
  };
}

export class UserDataError extends Error {}

/**
 * The script without its comment lines, except the header (the lines after
 * `#!`) and the environment marker: the comments are for reviewers of
 * bootstrap/node/user-data.sh and would cost the 16 KB EC2 allows, and
 * without the indentation of its code lines (the shell ignores it; about
 * 800 bytes) or its blank lines. Lines inside heredocs are content (YAML)
 * and stay as written.
 */
export function withoutComments(source: string): string {
  const lines = source.split('\n');
  const kept: string[] = [];
  let header = true;
  let heredoc: string | undefined;
  for (const [index, line] of lines.entries()) {
    if (heredoc !== undefined) {
      kept.push(line);
      if (line === heredoc) heredoc = undefined;
      continue;
    }
    const comment = /^\s*#/.test(line) && index > 0;
    header &&= index === 0 || comment;
    if (comment && !header && line.trim() !== ENVIRONMENT_MARKER) continue;
    if (line.trim() === '' && index < lines.length - 1) continue;
    kept.push(header ? line : line.trimStart());
    heredoc = /<<-?'?([A-Z_]+)'?\s*$/.exec(line)?.[1];
  }
  return kept.join('\n');
}

/**
 * The script for one node, with the registration address still a marker
 * (`@@REGISTRATION_ADDRESS@@`) where the environment has one; `userDataValue`
 * turns it into the template value.
 */
export function renderUserData(config: EnvConfig, source = readFileSync(userDataSourcePath(), 'utf8'), node: NodeSpec = FIRST_SERVER): string {
  if (!source.includes(ENVIRONMENT_MARKER)) {
    throw new UserDataError(`bootstrap/node/user-data.sh must contain the line "${ENVIRONMENT_MARKER}"`);
  }
  const unsafe = softwareSourceIssues(source);
  if (unsafe.length > 0) throw new UserDataError(`the node's user data installs software unsafely (docs/node-software.md):\n${formatSoftwareSourceIssues(unsafe)}`);
  // One readonly statement, a variable per line (a `readonly ` per line would cost about 300 bytes).
  const variables = `readonly ${Object.entries(userDataVariables(config, node))
    .map(([name, value]) => `${name}=${shellQuote(value)}`)
    .join(' \\\n')}`;
  const script = withoutComments(source).replace(ENVIRONMENT_MARKER, () => variables);
  const allowance = script.includes(REGISTRATION_MARKER) ? REGISTRATION_ADDRESS_ALLOWANCE - REGISTRATION_MARKER.length : 0;
  const size = Buffer.byteLength(script, 'utf8') + allowance;
  if (size > USER_DATA_LIMIT_BYTES) {
    throw new UserDataError(
      `${config.name}: the node's user data is ${size} bytes, over EC2's limit of ${USER_DATA_LIMIT_BYTES}; move work from bootstrap/node/user-data.sh into Argo CD`,
    );
  }
  return script;
}

/**
 * The UserData of a node in the template: the script as a plain string, or,
 * with a registration address, joined around the load balancer's DNS name
 * (Fn::Join, not Fn::Sub: the script's own ${...} must stay as they are).
 */
export function userDataValue(config: EnvConfig, node: NodeSpec): CfnValue {
  const parts = renderUserData(config, undefined, node).split(REGISTRATION_MARKER);
  if (parts.length === 1) return { 'Fn::Base64': parts[0]! };
  const joined: CfnValue[] = parts.flatMap((part, index) => (index === 0 ? [part] : [getAtt(REGISTRATION_LOAD_BALANCER, 'DNSName'), part]));
  return { 'Fn::Base64': { 'Fn::Join': ['', joined] } };
}

/** The script of a UserData value, with the registration address as `address` (for tests and linters). */
export function userDataScript(value: unknown, address = 'registration.internal.example'): string {
  const inner = (value as { 'Fn::Base64': unknown })['Fn::Base64'];
  if (typeof inner === 'string') return inner;
  const [, parts] = (inner as { 'Fn::Join': [string, unknown[]] })['Fn::Join'];
  return parts.map((part) => (typeof part === 'string' ? part : address)).join('');
}
