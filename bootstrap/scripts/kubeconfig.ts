/**
 * npm run kubeconfig -- --env NAME [--out FILE] [--break-glass]
 *
 * Writes a kubeconfig that reaches the Kubernetes API through the Tailscale
 * operator's API server proxy (auth mode): no client certificate, no token;
 * the proxy knows the caller by their tailnet identity and the RBAC of
 * `access` in the config decides what they may do (docs/access.md).
 *
 * --break-glass keeps the old path for when the proxy or the tailnet grants
 * are broken: downloads the kubeconfig the node uploaded to S3 (K3s's one
 * cluster-admin certificate), points it at the node's tailnet name, names its
 * cluster, user and context after the environment, and writes it with mode 0600.
 */
import { chmodSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { STSClient } from '@aws-sdk/client-sts';
import { parse, stringify } from 'yaml';
import { loadEnvironment, type Environment } from '../../generator/config/load-environment.js';
import { operatorHostname } from '../../generator/addons/tailscale.js';
import { KUBECONFIG_KEY } from '../names.js';
import { checkAccount } from '../lib/account-guard.js';
import { parseCommandLine, runMain, UsageError } from '../lib/args.js';
import { awsClients } from '../lib/aws-clients.js';
import { BootstrapError, consoleReporter, errorName, type Reporter } from '../lib/errors.js';

export const HELP = `Usage: npm run kubeconfig -- --env NAME [--out FILE] [--break-glass]

Writes a kubeconfig for your own tailnet identity: it points at the Tailscale
operator's API server proxy, https://tailscale-operator-NAME.<tailnetDomain>,
with no client certificate. What you may do is the RBAC of access.platformAdmins
and access.operators in environments/NAME.yaml (docs/access.md). Needs a
device on the tailnet and a tailnet grant of tailscale.com/cap/kubernetes.

--break-glass: instead download K3s's cluster-admin kubeconfig from S3
(uploaded by the node at boot), point it at
https://<hostnames.node>.<tailnetDomain>:6443 and write it with mode 0600. Only
when the proxy or the grants are broken; needs environments/NAME.outputs.yaml
from npm run bootstrap and AWS credentials for the account.

Options:
  --env NAME      environment
  --out FILE      where to write it (default: ~/.kube/dubai-NAME.yaml,
                  ~/.kube/dubai-NAME-break-glass.yaml with --break-glass)
  --break-glass   the K3s admin certificate instead of your tailnet identity
  --root DIR      repository root (default: this checkout)
  -h, --help      show this help
`;

export const API_PORT = 6443;

interface Named {
  name: string;
  [key: string]: unknown;
}
interface Kubeconfig {
  clusters?: (Named & { cluster?: Record<string, unknown> })[];
  users?: Named[];
  contexts?: (Named & { context?: Record<string, unknown> })[];
  'current-context'?: string;
  [key: string]: unknown;
}

/** K3s writes one cluster, user and context called "default" that point at 127.0.0.1. */
export function rewriteKubeconfig(text: string, environment: Environment['config']): string {
  const kubeconfig = parse(text) as Kubeconfig | null;
  if (!kubeconfig || !Array.isArray(kubeconfig.clusters) || kubeconfig.clusters.length !== 1 || !kubeconfig.users?.length || !kubeconfig.contexts?.length) {
    throw new BootstrapError('the downloaded kubeconfig is not the single-cluster file K3s writes', 'look at the node\'s /etc/rancher/k3s/k3s.yaml over SSM and re-run the node bootstrap');
  }
  const name = `dubai-${environment.name}`;
  const server = `https://${environment.hostnames.node}.${environment.hostnames.tailnetDomain}:${API_PORT}`;
  const cluster = kubeconfig.clusters[0]!;
  const user = kubeconfig.users[0]!;
  return stringify(
    {
      ...kubeconfig,
      clusters: [{ ...cluster, name, cluster: { ...cluster.cluster, server } }],
      users: [{ ...user, name }],
      contexts: [{ name, context: { cluster: name, user: name } }],
      'current-context': name,
    },
    { lineWidth: 0 },
  );
}

/** The server of the Tailscale operator's API server proxy (tailnet HTTPS certificate, port 443). */
export function proxyServer(environment: Environment['config']): string {
  return `https://${operatorHostname(environment)}.${environment.hostnames.tailnetDomain}`;
}

/** A kubeconfig that carries no credential: the proxy identifies the caller by their tailnet identity. */
export function proxyKubeconfig(environment: Environment['config']): string {
  const name = `dubai-${environment.name}`;
  return stringify(
    {
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name, cluster: { server: proxyServer(environment) } }],
      users: [{ name: `${name}-tailnet`, user: {} }],
      contexts: [{ name, context: { cluster: name, user: `${name}-tailnet` } }],
      'current-context': name,
    },
    { lineWidth: 0 },
  );
}

export function writeProxyKubeconfig(environment: Environment['config'], out: string, reporter: Reporter): string {
  writePrivateFile(out, proxyKubeconfig(environment));
  reporter.info(`✓ wrote ${out} (mode 0600), context dubai-${environment.name} → ${proxyServer(environment)} as your tailnet identity (no certificate)`);
  reporter.info(`  export KUBECONFIG=${out}`);
  return out;
}

/** Writes the file so that it is never readable by others, not even briefly. */
export function writePrivateFile(path: string, content: string): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, content, { mode: 0o600 });
  chmodSync(temporary, 0o600);
  renameSync(temporary, path);
}

export interface KubeconfigDeps {
  s3: S3Client;
  sts: STSClient;
  reporter: Reporter;
}

export async function fetchKubeconfig(environment: Environment, out: string, deps: KubeconfigDeps): Promise<string> {
  const { config, outputs } = environment;
  if (outputs.source !== 'bootstrap') {
    throw new BootstrapError(`environments/${config.name}.outputs.yaml still holds placeholders`, `run \`npm run bootstrap -- --env ${config.name}\` first`);
  }
  await checkAccount(deps.sts, config);
  const bucket = outputs.buckets.kubeconfig;
  deps.reporter.info(`Downloading s3://${bucket}/${KUBECONFIG_KEY}…`);
  let text: string;
  try {
    const object = await deps.s3.send(new GetObjectCommand({ Bucket: bucket, Key: KUBECONFIG_KEY }));
    text = (await object.Body?.transformToString('utf8')) ?? '';
  } catch (error) {
    if (errorName(error) === 'NoSuchKey') {
      throw new BootstrapError(`the node has not uploaded its kubeconfig yet (s3://${bucket}/${KUBECONFIG_KEY} is missing)`, 'wait for the node to finish booting; its log is /var/log/dubai-bootstrap.log (open an SSM session to read it)');
    }
    throw error;
  }
  writePrivateFile(out, rewriteKubeconfig(text, config));
  deps.reporter.info(`✓ wrote ${out} (mode 0600), context dubai-${config.name} → ${config.hostnames.node}.${config.hostnames.tailnetDomain}:${API_PORT}`);
  deps.reporter.info(`  export KUBECONFIG=${out}`);
  return out;
}

export async function main(argv: string[]): Promise<number> {
  const { values } = parseCommandLine(argv, {
    env: { type: 'string' },
    out: { type: 'string' },
    'break-glass': { type: 'boolean', default: false },
    root: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  if (!values.env) throw new UsageError('--env is required');
  const root = values.root ? resolve(values.root) : resolve(dirname(fileURLToPath(import.meta.url)), '../..');
  const environment = loadEnvironment(root, values.env);
  const breakGlass = values['break-glass'] === true;
  const out = resolve(values.out ?? join(homedir(), '.kube', `dubai-${values.env}${breakGlass ? '-break-glass' : ''}.yaml`));
  if (!breakGlass) {
    writeProxyKubeconfig(environment.config, out, consoleReporter);
    return 0;
  }
  consoleReporter.warn('break-glass: this is K3s\'s one cluster-admin certificate, shared by everyone who fetches it; use it only while the Tailscale API server proxy is unusable (docs/access.md)');
  const clients = awsClients({ region: environment.config.aws.region });
  await fetchKubeconfig(environment, out, { s3: clients.s3, sts: clients.sts, reporter: consoleReporter });
  return 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await runMain(HELP, () => main(process.argv.slice(2)));
}
