/**
 * The API server and controller-manager settings of the real node, read from
 * the script that writes them (bootstrap/node/user-data.sh), so the test
 * control plane admits exactly what the node does: the PodSecurity admission
 * configuration (cluster-wide defaults for namespaces without labels, and the
 * exemptions) and the `kube-apiserver-arg` / `kube-controller-manager-arg`
 * lists of the K3s config. Nothing is copied here.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const USER_DATA = join('bootstrap', 'node', 'user-data.sh');

export interface K3sNodeConfig {
  /** Flags for kube-apiserver (`--name=value`), the admission configuration pointing at `admissionConfigFile`. */
  apiserverFlags: string[];
  controllerManagerFlags: string[];
  /** Node flags not used here, each with why. */
  skipped: { flag: string; why: string }[];
}

export class K3sNodeConfigError extends Error {}

const AUDIT_SKIPPED = 'audit logging records requests; it does not change what is admitted';
const SERVICE_ACCOUNT_SKIPPED = "the node's service-account issuer and keys (workload identity) live on the node; the test control plane signs tokens with its own key";

function heredoc(source: string, marker: string): string {
  const match = new RegExp(`<<'${marker}'\\n([\\s\\S]*?)\\n${marker}\\n`).exec(source);
  if (!match) throw new K3sNodeConfigError(`${USER_DATA}: expected a <<'${marker}' here-document; the cluster test reads the node's PodSecurity admission configuration from it`);
  return `${match[1]}\n`;
}

function list(source: string, key: string): string[] {
  const match = new RegExp(`^${key}:\\n((?:  - .*\\n)+)`, 'm').exec(source);
  if (!match) throw new K3sNodeConfigError(`${USER_DATA}: expected a \`${key}:\` list in the K3s config; the cluster test starts its control plane with the same flags`);
  return match[1]!.split('\n').filter(Boolean).map((line) => line.replace(/^  - /, '').trim());
}

/** Reads the node's settings and writes the admission configuration into `dir`. */
export function k3sNodeConfig(root: string, dir: string): K3sNodeConfig {
  const source = readFileSync(join(root, USER_DATA), 'utf8');
  const admissionConfigFile = join(dir, 'psa.yaml');
  writeFileSync(admissionConfigFile, heredoc(source, 'PSA'));
  const skipped: K3sNodeConfig['skipped'] = [];
  const apiserverFlags = list(source, 'kube-apiserver-arg').flatMap((arg) => {
    const name = arg.split('=')[0]!;
    if (name === 'admission-control-config-file') return [`--admission-control-config-file=${admissionConfigFile}`];
    if (name.startsWith('audit-')) {
      skipped.push({ flag: arg, why: AUDIT_SKIPPED });
      return [];
    }
    if (name.startsWith('service-account-')) {
      skipped.push({ flag: arg, why: SERVICE_ACCOUNT_SKIPPED });
      return [];
    }
    return [`--${arg}`];
  });
  if (!apiserverFlags.some((flag) => flag.startsWith('--admission-control-config-file='))) {
    throw new K3sNodeConfigError(`${USER_DATA}: kube-apiserver-arg has no admission-control-config-file; expected the PodSecurity configuration (<<'PSA') to be passed to the API server`);
  }
  return { apiserverFlags, controllerManagerFlags: list(source, 'kube-controller-manager-arg').map((arg) => `--${arg}`), skipped };
}
