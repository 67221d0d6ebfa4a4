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
import { GENERATED_SECRETS, MANUAL_SECRETS, secretsManagerName } from '../../generator/platform-names.js';
import { argocdBootstrapPath, argocdInstallPath, bucketName, ETCD_SNAPSHOT_FOLDER, KUBECONFIG_KEY } from '../names.js';

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

/** A shell word that stays literal: 'value' with embedded quotes escaped. */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

export function userDataVariables(config: EnvConfig): Record<string, string> {
  return {
    ENV_NAME: config.name,
    AWS_REGION: config.aws.region,
    K3S_VERSION: config.k3s.version,
    K3S_INSTALLER_URL: K3S_INSTALLER.url,
    K3S_INSTALLER_SHA256: K3S_INSTALLER.sha256,
    NODE_NAME: config.hostnames.node,
    NODE_FQDN: `${config.hostnames.node}.${config.hostnames.tailnetDomain}`,
    K3S_TOKEN_SECRET: secretsManagerName(config, GENERATED_SECRETS.k3sToken),
    TAILSCALE_AUTH_KEY_SECRET: secretsManagerName(config, MANUAL_SECRETS.tailscaleAuthKey),
    ETCD_BUCKET: bucketName(config, 'etcdSnapshots'),
    ETCD_FOLDER: ETCD_SNAPSHOT_FOLDER,
    KUBECONFIG_BUCKET: bucketName(config, 'kubeconfig'),
    KUBECONFIG_KEY,
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

export function renderUserData(config: EnvConfig, source = readFileSync(userDataSourcePath(), 'utf8')): string {
  if (!source.includes(ENVIRONMENT_MARKER)) {
    throw new UserDataError(`bootstrap/node/user-data.sh must contain the line "${ENVIRONMENT_MARKER}"`);
  }
  const variables = Object.entries(userDataVariables(config))
    .map(([name, value]) => `readonly ${name}=${shellQuote(value)}`)
    .join('\n');
  const script = source.replace(ENVIRONMENT_MARKER, () => variables);
  const size = Buffer.byteLength(script, 'utf8');
  if (size > USER_DATA_LIMIT_BYTES) {
    throw new UserDataError(
      `${config.name}: the node's user data is ${size} bytes, over EC2's limit of ${USER_DATA_LIMIT_BYTES}; move work from bootstrap/node/user-data.sh into Argo CD`,
    );
  }
  return script;
}
