/**
 * The node's roles, run for real: the rendered user data of each node is
 * sourced in bash with the commands it calls (curl for instance metadata,
 * aws, k3s, systemctl and the steps that need a machine) replaced by
 * stand-ins that record their calls, and its functions are run in scratch
 * folders. Proves which role each node takes (including a replaced first
 * server, which must join, never start a second cluster), the K3s
 * configuration each role writes, and which steps each role runs.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { renderUserData, type NodeSpec } from '../bootstrap/template/user-data.js';
import { environment } from './support/environments.js';

const scratch = mkdtempSync(join(tmpdir(), 'node-roles-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
let runs = 0;

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
  /** Commands the stand-ins saw, one per line. */
  calls: string[];
  dir: string;
  file: (path: string) => string;
}

/**
 * Sources the rendered script for `node` of `env` (without running main), points its folders into a
 * scratch directory, installs the stand-ins and runs `commands`. `marker` says whether the cluster
 * marker exists in S3.
 */
function run(env: string, node: NodeSpec, commands: string, options: { marker?: boolean; address?: string; restore?: string } = {}): Run {
  const dir = join(scratch, `run-${++runs}`);
  const loaded = environment(env).config;
  // recover-cluster's rendering: server 1 at generation 2, restoring `restore`.
  const config = options.restore ? { ...loaded, cluster: { ...loaded.cluster, serverGenerations: [{ server: 1, generation: 2 }], etcdRestore: { snapshot: options.restore, generation: 2 } } } : loaded;
  const script = renderUserData(config, undefined, node)
    .replace('@@REGISTRATION_ADDRESS@@', options.address ?? 'nlb.internal.example')
    .replace(/^exec > >\(tee .*$/m, '')
    .replace(/^main "\$@"$/m, '')
    .replace(/^LOG_FILE=.*$/m, `LOG_FILE=${dir}/log`)
    .replace(/^K3S_CONFIG_DIR=.*$/m, `K3S_CONFIG_DIR=${dir}/etc`)
    .replace(/^K3S_SERVER_DIR=.*$/m, `K3S_SERVER_DIR=${dir}/server`);
  const calls = join(dir, 'calls');
  const record = (name: string) => `${name}() { printf '%s\\n' "${name} $*" >>${calls}; }`;
  const harness = [
    `mkdir -p ${dir}`,
    script,
    // Instance metadata: only IMDSv2 (a PUT for the token first) answers.
    `curl() { printf '%s\\n' "curl $*" >>${calls}; case "$*" in *"-X PUT"*api/token*) echo token-1 ;; *"X-aws-ec2-metadata-token: token-1"*placement/availability-zone) echo me-central-1b ;; *"X-aws-ec2-metadata-token: token-1"*instance-id) echo i-0abc123 ;; *) return 22 ;; esac; }`,
    `aws() { printf '%s\\n' "aws $*" >>${calls}; case "$1 $2" in "s3api head-object") return ${options.marker ? 0 : 1} ;; "secretsmanager get-secret-value") echo secret-token ;; esac; }`,
    'retry() { shift; "$@"; }',
    ...['install_packages', 'kernel_settings', 'mount_data_volume', 'fetch_argocd_bootstrap', 'install_k3s', 'restore_etcd', 'wait_for_k3s', 'seed_repository_credentials', 'install_argocd', 'upload_kubeconfig', 'mark_cluster_initialized', 'join_tailnet', 'signing_key', 'publish_oidc'].map((name) =>
      commands.includes(`real:${name}`) ? '' : record(name),
    ),
    commands.replaceAll('real:', ''),
  ].join('\n');
  const result = spawnSync('bash', ['-c', harness], { encoding: 'utf8', timeout: 30_000 });
  let recorded: string[] = [];
  try {
    recorded = readFileSync(calls, 'utf8').trim().split('\n');
  } catch {
    // nothing was called
  }
  return { status: result.status, stdout: result.stdout, stderr: result.stderr, calls: recorded, dir, file: (path) => readFileSync(join(dir, path), 'utf8') };
}

const FIRST: NodeSpec = { role: 'server', index: 1 };
const SECOND: NodeSpec = { role: 'server', index: 2 };
const AGENT: NodeSpec = { role: 'agent' };

describe('which role a node takes', () => {
  it.each<[string, string, NodeSpec, boolean, string]>([
    ['dev: the only server starts the cluster', 'dev', FIRST, false, 'init'],
    ['dev: the only server starts it even if a marker exists (a rebuild restores etcd from S3)', 'dev', FIRST, true, 'init'],
    ['prod: the first server starts a new cluster', 'prod', FIRST, false, 'init'],
    ['prod: a replaced first server joins the running servers', 'prod', FIRST, true, 'join'],
    ['prod: server 2 joins', 'prod', SECOND, false, 'join'],
    ['prod: an agent is an agent', 'prod', AGENT, true, 'agent'],
  ])('%s', (_name, env, node, marker, role) => {
    const result = run(env, node, 'node_role', { marker });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout.trim()).toBe(role);
  });

  it('keeps the role it took the first time (an idempotent re-run does not change it)', () => {
    const result = run('prod', FIRST, 'mkdir -p "$K3S_CONFIG_DIR"; echo join >"$K3S_CONFIG_DIR/role"; node_role', { marker: false });
    expect(result.stdout.trim()).toBe('join');
    expect(result.calls.filter((call) => call.startsWith('aws s3api head-object'))).toEqual([]);
  });

  it('asks S3 for the marker only where it matters (a first server of several)', () => {
    expect(run('prod', FIRST, 'node_role').calls).toEqual([expect.stringMatching(/^aws s3api head-object --bucket dubai-prod-kubeconfig-210987654323 --key k3s\/cluster-initialized$/)]);
    expect(run('prod', SECOND, 'node_role').calls).toEqual([]);
    expect(run('dev', FIRST, 'node_role').calls).toEqual([]);
  });
});

describe('the K3s configuration each role writes', () => {
  it('init: cluster-init, the registration address in the certificate, the zone from IMDSv2', () => {
    const result = run('prod', FIRST, 'write_k3s_config init');
    expect(result.status).toBe(0);
    const config = result.file('etc/config.yaml');
    expect(config).toMatch(/^node-name: k3s-prod$/m);
    expect(config).toMatch(/^cluster-init: true$/m);
    expect(config).not.toMatch(/^server:/m);
    expect(config).toMatch(/^tls-san:\n {2}- k3s-prod\.tail4f2a9c\.ts\.net\n {2}- k3s-prod\n {2}- nlb\.internal\.example$/m);
    expect(config).toMatch(/^ {2}- topology\.kubernetes\.io\/zone=me-central-1b$/m);
    expect(config).toMatch(/^etcd-s3-bucket: dubai-prod-etcd-snapshots-210987654323$/m);
    expect(config).toMatch(/^secrets-encryption: true$/m);
    expect(result.file('etc/token')).toBe('secret-token\n');
    // The metadata came over IMDSv2: a token request, then the token on every read.
    expect(result.calls.filter((call) => call.startsWith('curl'))[0]).toMatch(/-X PUT .*latest\/api\/token/);
  });

  it('join: the registration address as server, no cluster-init, its own name in the certificate', () => {
    const config = run('prod', SECOND, 'write_k3s_config join').file('etc/config.yaml');
    expect(config).toMatch(/^node-name: k3s-prod-2$/m);
    expect(config).toMatch(/^server: https:\/\/nlb\.internal\.example:6443$/m);
    expect(config).not.toMatch(/cluster-init/);
    expect(config).toMatch(/^ {2}- k3s-prod-2\.tail4f2a9c\.ts\.net$/m);
    expect(config).toMatch(/^etcd-s3: true$/m);
  });

  it('agent: joins through the registration address, named after its instance, with no server settings', () => {
    const config = run('prod', AGENT, 'write_k3s_config agent').file('etc/config.yaml');
    expect(config).toMatch(/^node-name: k3s-prod-agent-i-0abc123$/m);
    expect(config).toMatch(/^server: https:\/\/nlb\.internal\.example:6443$/m);
    expect(config).toMatch(/^ {2}- topology\.kubernetes\.io\/zone=me-central-1b$/m);
    expect(config).toMatch(/^protect-kernel-defaults: true$/m);
    expect(config).not.toMatch(/cluster-init|tls-san|etcd-s3|secrets-encryption|kube-apiserver-arg/);
  });

  it('dev: one server without a registration address, as before', () => {
    const config = run('dev', FIRST, 'write_k3s_config init').file('etc/config.yaml');
    expect(config).toMatch(/^cluster-init: true$/m);
    expect(config).toMatch(/^tls-san:\n {2}- k3s-dev\.tail4f2a9c\.ts\.net\n {2}- k3s-dev\n\n/m);
    expect(config).not.toMatch(/^server:/m);
  });

  it('refuses to go on when instance metadata does not answer over IMDSv2 (no zone label from nowhere)', () => {
    const result = run('prod', AGENT, 'curl() { return 7; }; write_k3s_config agent');
    expect(result.status).not.toBe(0);
  });
});

describe('the steps each role runs', () => {
  const steps = (calls: string[]) => calls.filter((call) => !/^(curl|aws) /.test(call)).map((call) => call.split(' ')[0]);

  it('init: hands over to Argo CD, uploads the kubeconfig and records that the cluster exists', () => {
    const result = run('prod', FIRST, 'write_k3s_config() { echo "config $1"; }; main');
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(steps(result.calls)).toEqual(['install_packages', 'kernel_settings', 'mount_data_volume', 'fetch_argocd_bootstrap', 'install_k3s', 'restore_etcd', 'wait_for_k3s', 'seed_repository_credentials', 'install_argocd', 'upload_kubeconfig', 'publish_oidc', 'mark_cluster_initialized', 'join_tailnet']);
    expect(result.stdout).toContain('config init');
    expect(result.file('etc/role')).toBe('init\n');
  });

  it.each<[string, NodeSpec, boolean, string]>([
    ['a joining server', SECOND, false, 'join'],
    ['a replaced first server', FIRST, true, 'join'],
    ['an agent', AGENT, false, 'agent'],
  ])('%s neither starts a cluster nor hands it over', (_name, node, marker, role) => {
    const result = run('prod', node, 'write_k3s_config() { echo "config $1"; }; main', { marker });
    expect(result.status).toBe(0);
    expect(steps(result.calls)).toEqual(['install_packages', 'kernel_settings', 'mount_data_volume', 'install_k3s', 'wait_for_k3s', 'join_tailnet']);
    expect(result.calls).toEqual(expect.arrayContaining([`install_k3s ${role}`, `wait_for_k3s ${role}`]));
    expect(result.stdout).toContain(`config ${role}`);
    expect(result.file('etc/role')).toBe(`${role}\n`);
  });

  it('installs K3s as an agent or a server, and checks the matching service', () => {
    const install = (role: string) => run('prod', AGENT, `command() { return 1; }; sh() { echo "sh INSTALL_K3S_EXEC=$INSTALL_K3S_EXEC"; }; curl() { : ; }; sha256sum() { cat >/dev/null; }; real:install_k3s ${role}`);
    expect(install('agent').stdout).toContain('sh INSTALL_K3S_EXEC=agent');
    const join = install("join"); expect(join.stdout + join.stderr).toContain("sh INSTALL_K3S_EXEC=server");
    expect(run('prod', AGENT, 'k3s_service agent; k3s_service join').stdout).toBe('k3s-agent\nk3s\n');
  });

  it('marks the cluster only when it has several servers', () => {
    const prod = run('prod', FIRST, 'real:mark_cluster_initialized');
    expect(prod.calls).toEqual([expect.stringMatching(/^aws s3 cp --only-show-errors - s3:\/\/dubai-prod-kubeconfig-210987654323\/k3s\/cluster-initialized$/)]);
    expect(run('dev', FIRST, 'real:mark_cluster_initialized').calls).toEqual([]);
  });
});

describe('the service-account signing key (workload identity)', () => {
  it('init: generates the key when Secrets Manager has none, stores it there, and derives the public key', () => {
    const result = run('prod', FIRST, 'mkdir -p "$K3S_CONFIG_DIR"; real:signing_key init');
    expect(result.stderr).not.toMatch(/error/i);
    expect(result.status).toBe(0);
    expect(result.file('etc/sa.key')).toMatch(/^-----BEGIN (RSA )?PRIVATE KEY-----/);
    expect(result.file('etc/sa.key.pub')).toMatch(/^-----BEGIN PUBLIC KEY-----/);
    expect(result.calls).toContainEqual(expect.stringMatching(/^aws secretsmanager put-secret-value --secret-id dubai\/prod\/k3s\/sa-signing-key --secret-string file:\/\/.*\/etc\/sa\.key\.new$/));
  });

  it('join: never generates a key of its own; without the first server\'s key it stops', () => {
    const result = run('prod', SECOND, 'mkdir -p "$K3S_CONFIG_DIR"; real:signing_key join');
    expect(result.status).not.toBe(0);
    expect(result.calls.filter((call) => call.includes('put-secret-value'))).toEqual([]);
    expect(() => result.file('etc/sa.key')).toThrow();
  });

  it('join: uses the key the first server stored, so every server signs with the same key', () => {
    const stored = spawnSync('openssl', ['genrsa', '2048'], { encoding: 'utf8' }).stdout;
    const result = run('prod', SECOND, `mkdir -p "$K3S_CONFIG_DIR"; secret_value() { printf '%s' '${stored.trim()}'; }; real:signing_key join`);
    expect(result.status).toBe(0);
    expect(result.file('etc/sa.key').trim()).toBe(stored.trim());
  });

  it('passes the issuer, both issuers and both verification keys to kube-apiserver', () => {
    const result = run('prod', FIRST, 'mkdir -p "$K3S_CONFIG_DIR" "$K3S_SERVER_DIR"; write_server_config init k3s-prod; cat "$K3S_CONFIG_DIR/config.yaml"', {});
    expect(result.status).toBe(0);
    const issuer = 'https://dubai-prod-oidc-210987654323.s3.me-central-1.amazonaws.com';
    expect(result.stdout).toContain(`  - service-account-issuer=${issuer}\n  - service-account-issuer=https://kubernetes.default.svc.cluster.local\n`);
    expect(result.stdout).toContain(`  - service-account-jwks-uri=${issuer}/openid/v1/jwks\n`);
    expect(result.stdout).toMatch(/ {2}- service-account-signing-key-file=.*\/etc\/sa\.key\n {2}- service-account-key-file=.*\/etc\/sa\.key\.pub\n {2}- service-account-key-file=.*\/server\/tls\/service\.key\n/);
  });

  it('publishes exactly the two OIDC documents kube-apiserver serves', () => {
    const result = run('prod', FIRST, `k3s() { printf '%s\\n' "k3s $*" >>"${'$'}{LOG_FILE%/log}/calls"; echo '{}'; }; real:publish_oidc`);
    expect(result.status).toBe(0);
    expect(result.calls.filter((call) => /^(k3s|aws) /.test(call)).map((call) => call.replace(/\/[^ ]*\/tmp\.[A-Za-z0-9]+|\/tmp\/[^ ]+/, 'FILE'))).toEqual([
      'k3s kubectl get --raw /.well-known/openid-configuration',
      'aws s3 cp FILE s3://dubai-prod-oidc-210987654323/.well-known/openid-configuration',
      'k3s kubectl get --raw /openid/v1/jwks',
      'aws s3 cp FILE s3://dubai-prod-oidc-210987654323/openid/v1/jwks',
    ]);
  });
});

describe('a re-run over SSM (the way a single node becomes the first of three)', () => {
  it('restarts a running K3s when its configuration changed, and leaves it alone when nothing did', () => {
    const rerun = (before: string) =>
      run(
        'prod',
        FIRST,
        [
          `mkdir -p "$K3S_CONFIG_DIR"; printf '%s' '${before}' >"$K3S_CONFIG_DIR/config.yaml"`,
          'write_k3s_config init',
          // K3s of the pinned version is running already.
          `command() { return 0; }; k3s() { echo "$K3S_VERSION"; }; systemctl() { printf '%s\\n' "systemctl $*" >>"$(dirname "$K3S_CONFIG_DIR")/calls"; return 0; }`,
          'real:install_k3s init',
        ].join('\n'),
      );
    const changed = rerun('node-name: k3s-prod\\n');
    expect(changed.stderr).toBe('');
    expect(changed.status).toBe(0);
    expect(changed.stdout).toContain('restarting K3s for its new configuration');
    expect(changed.calls).toContain('systemctl restart k3s');

    // The same configuration again (written twice in one run): no restart.
    const same = run(
      'prod',
      FIRST,
      [
        'write_k3s_config init',
        'write_k3s_config init',
        `command() { return 0; }; k3s() { echo "$K3S_VERSION"; }; systemctl() { printf '%s\\n' "systemctl $*" >>"$(dirname "$K3S_CONFIG_DIR")/calls"; return 0; }`,
        'real:install_k3s init',
      ].join('\n'),
    );
    expect(same.status).toBe(0);
    expect(same.stdout).toContain('K3s v1.36.3+k3s1 already running');
    expect(same.calls).not.toContain('systemctl restart k3s');
  });
});

describe('a restore from an etcd snapshot (npm run ops -- recover-cluster)', () => {
  const SNAPSHOT = 'etcd-snapshot-k3s-prod-1764633600';
  const systemd = `k3s() { printf '%s\\n' "k3s $*" >>"$(dirname "$K3S_CONFIG_DIR")/calls"; }; systemctl() { printf '%s\\n' "systemctl $*" >>"$(dirname "$K3S_CONFIG_DIR")/calls"; }`;

  it('renders the snapshot into the first server only, at the generation that restores', () => {
    const restoring = { ...environment('prod').config };
    restoring.cluster = { ...restoring.cluster, serverGenerations: [{ server: 1, generation: 2 }], etcdRestore: { snapshot: SNAPSHOT, generation: 2 } };
    expect(renderUserData(restoring, undefined, FIRST)).toContain(`readonly ETCD_RESTORE_SNAPSHOT='${SNAPSHOT}'`);
    expect(renderUserData(restoring, undefined, SECOND)).not.toContain('ETCD_RESTORE_SNAPSHOT=');
    const later = { ...restoring, cluster: { ...restoring.cluster, serverGenerations: [{ server: 1, generation: 3 }] } };
    expect(renderUserData(later, undefined, FIRST)).not.toContain('ETCD_RESTORE_SNAPSHOT=');
    expect(renderUserData(environment('prod').config, undefined, FIRST)).not.toContain('ETCD_RESTORE_SNAPSHOT=');
  });

  it('makes a new first server start the cluster from the snapshot even though the cluster marker exists', () => {
    expect(run('prod', FIRST, 'node_role', { marker: true, restore: SNAPSHOT }).stdout.trim()).toBe('init');
    expect(run('prod', SECOND, 'node_role', { marker: true, restore: SNAPSHOT }).stdout.trim()).toBe('join');
  });

  it('stops K3s, resets the cluster from the snapshot in S3, starts it again, and does it only once', () => {
    const first = run('prod', FIRST, `${systemd}\nmkdir -p "$K3S_CONFIG_DIR"\nreal:restore_etcd`, { restore: SNAPSHOT });
    expect(first.stderr).toBe('');
    expect(first.status).toBe(0);
    expect(first.calls).toEqual(['systemctl stop k3s', `k3s server --cluster-reset --cluster-reset-restore-path=${SNAPSHOT}`, 'systemctl start k3s']);
    expect(first.stdout).toContain(`restoring etcd from s3://dubai-prod-etcd-snapshots-210987654323/etcd/${SNAPSHOT}`);
    expect(first.file('etc/restored')).toBe(`${SNAPSHOT}\n`);
    const again = run('prod', FIRST, `${systemd}\nmkdir -p "$K3S_CONFIG_DIR"; echo ${SNAPSHOT} >"$K3S_CONFIG_DIR/restored"\nreal:restore_etcd`, { restore: SNAPSHOT });
    expect(again.status).toBe(0);
    expect(again.calls).toEqual([]);
  });

  it('does nothing without a snapshot to restore', () => {
    const result = run('dev', FIRST, `${systemd}\nreal:restore_etcd`);
    expect(result.status).toBe(0);
    expect(result.calls).toEqual([]);
  });

  it('stops the boot when the restore fails (K3s is not started on an empty cluster)', () => {
    const result = run('prod', FIRST, `${systemd}\nmkdir -p "$K3S_CONFIG_DIR"\nk3s() { return 1; }\nreal:restore_etcd`, { restore: SNAPSHOT });
    expect(result.status).not.toBe(0);
    expect(result.calls).toEqual(['systemctl stop k3s']);
    expect(() => result.file('etc/restored')).toThrow(/ENOENT/);
  });
});

describe('the rendered environment', () => {
  it('sets the environment in one readonly statement: bash refuses to change a value later', () => {
    const script = renderUserData(environment('dev').config);
    const variables = /^readonly ENV_NAME=[\s\S]*?[^\\]\n/m.exec(script)![0];
    const result = spawnSync('bash', ['-c', `${variables}echo "$K3S_VERSION"; K3S_VERSION=other; echo changed`], { encoding: 'utf8', timeout: 30_000 });
    expect(result.stdout).toBe(`${environment('dev').config.k3s.version}\n`);
    expect(result.stderr).toMatch(/K3S_VERSION: readonly variable/);
  });
});
