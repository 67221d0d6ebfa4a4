/**
 * End to end against moto_server: the real bootstrap code (account guard,
 * change set, execution, waiting, outputs file) on the real rendered dev
 * template. What moto cannot do is bridged on the test's client only; see
 * test/support/moto-gaps.ts for each gap and how it is handled.
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ListStackResourcesCommand } from '@aws-sdk/client-cloudformation';
import { HeadBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { CreateSecretCommand, GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { fetchKubeconfig } from '../bootstrap/scripts/kubeconfig.js';
import { listSecrets, requireAllSet, setSecret } from '../bootstrap/scripts/secrets.js';
import { KUBECONFIG_KEY } from '../bootstrap/names.js';
import { runBootstrap, type BootstrapDeps } from '../bootstrap/scripts/bootstrap.js';
import { awsClients } from '../bootstrap/lib/aws-clients.js';
import { BootstrapError } from '../bootstrap/lib/errors.js';
import { loadEnvironment } from '../generator/config/load-environment.js';
import { bucketName } from '../bootstrap/names.js';
import { stringify } from 'yaml';
import { parse } from 'yaml';
import { loadConfig } from '../bootstrap/lib/environment.js';
import { startMoto, type MotoServer } from './support/moto-server.js';
import { actAsAccount, bridgeMotoGaps, holdBucketPolicies } from './support/moto-gaps.js';
import { motoQuery } from './support/moto-query.js';
import { oidcIssuer, workloadRoleName } from '../bootstrap/names.js';
import { ensurePythonTools, REPO_ROOT, TOOL_INSTALL_TIMEOUT_MS } from '../bootstrap/tools/python-tools.js';
import { outputsFileExists, scratchRepository } from './support/scratch-repo.js';

const ENV = 'dev';
const config = loadConfig(REPO_ROOT, ENV);
const ACCOUNT = config.aws.accountId;
const REGION = config.aws.region;

let moto: MotoServer;
let root: string;
let removeScratch: () => void;

function deps(account: string, lines: string[]): BootstrapDeps {
  const clients = awsClients({ region: REGION, endpoint: moto.endpoint, credentials: { accessKeyId: 'AKIAMOTOTEST', secretAccessKey: 'moto' } });
  actAsAccount([clients.cfn, clients.sts, clients.s3, clients.secrets, clients.ec2!] as never[], account);
  bridgeMotoGaps(clients.cfn, REGION, account, clients.s3);
  holdBucketPolicies(clients.s3);
  return { clients, reporter: { info: (line) => lines.push(line), warn: (line) => lines.push(line) } };
}

const options = () => ({ root, env: ENV, yes: true, allowReplace: [], intervalMs: 100, timeoutMs: 60_000 });

beforeAll(async () => {
  ensurePythonTools(); // moto_server comes from .tools/venv, installed on first use
  moto = await startMoto();
  ({ root, remove: removeScratch } = scratchRepository(ENV));
}, TOOL_INSTALL_TIMEOUT_MS);

afterAll(async () => {
  await moto?.stop();
  removeScratch?.();
});

describe('npm run bootstrap against moto_server', () => {
  it('refuses credentials of another account before creating anything', async () => {
    const lines: string[] = [];
    const wrong = deps('111122223333', lines);
    const attempt = runBootstrap(options(), wrong);
    await expect(attempt).rejects.toBeInstanceOf(BootstrapError);
    await expect(attempt).rejects.toThrow(/account 111122223333 .* but environments\/dev\.yaml sets aws\.accountId 210987654321; nothing was changed/);
    await expect(wrong.clients.cfn.send(new ListStackResourcesCommand({ StackName: 'dubai-dev' }))).rejects.toThrow(/does not exist/);
    expect(outputsFileExists(root, ENV)).toBe(false);
  });

  it('creates the stack on the first run and writes an outputs file the generator loads', async () => {
    const lines: string[] = [];
    const d = deps(ACCOUNT, lines);
    const result = await runBootstrap(options(), d);
    expect(result).toEqual({ outcome: 'deployed', outputsFile: 'environments/dev.outputs.yaml' });
    expect(lines).toContain(`✓ credentials are for account ${ACCOUNT} (arn:aws:sts::${ACCOUNT}:user/moto)`);
    expect(lines.some((line) => /creates the stack/.test(line))).toBe(true);
    expect(lines.some((line) => /^ {2}\+ Add +NodeInstance +AWS::EC2::Instance/.test(line))).toBe(true);
    expect(lines.some((line) => /CREATE_COMPLETE/.test(line))).toBe(true);

    // The buckets exist in moto under the names the generator derives.
    await d.clients.s3.send(new HeadBucketCommand({ Bucket: bucketName(config, 'etcdSnapshots') }));

    const environment = loadEnvironment(root, ENV);
    expect(environment.outputs).toMatchObject({
      source: 'bootstrap',
      stackName: 'dubai-dev',
      buckets: {
        attachments: 'dubai-dev-attachments-210987654321',
        longhornBackups: 'dubai-dev-longhorn-backups-210987654321',
        etcdSnapshots: 'dubai-dev-etcd-snapshots-210987654321',
        kubeconfig: 'dubai-dev-kubeconfig-210987654321',
      },
      aurora: { port: 5432 },
    });
    expect(readFileSync(join(root, 'environments', 'dev.outputs.yaml'), 'utf8')).toMatch(/^# Written by `npm run bootstrap -- --env dev`/m);
  }, 60_000);

  it('creates one role per component, each trusted for exactly one service account through the OIDC issuer; the node has hop limit 1; no IAM user or access key exists', async () => {
    const { endpoint } = moto;
    const issuer = oidcIssuer(config).replace(/^https:\/\//, '');
    const resources = await deps(ACCOUNT, []).clients.cfn.send(new ListStackResourcesCommand({ StackName: 'dubai-dev' }));
    const types = new Map((resources.StackResourceSummaries ?? []).map((r) => [r.LogicalResourceId!, r.ResourceType!]));
    // moto's CloudFormation has no AWS::IAM::OIDCProvider handler: test/bootstrap-template-hardening.test.ts checks it in the template.
    expect(types.get('OidcBucket')).toBe('AWS::S3::Bucket');
    const expected: [string, string][] = [
      ['externalSecrets', 'system:serviceaccount:external-secrets:external-secrets'],
      ['longhorn', 'system:serviceaccount:longhorn-system:longhorn-service-account'],
      ['openWebUI', 'system:serviceaccount:open-webui:open-webui'],
    ];
    for (const [key, subject] of expected) {
      const xml = await motoQuery(endpoint, 'iam', { Action: 'GetRole', RoleName: workloadRoleName(config, key as 'openWebUI'), Version: '2010-05-08' }, ACCOUNT);
      const trust = JSON.parse(decodeURIComponent(/<AssumeRolePolicyDocument>([^<]*)<\/AssumeRolePolicyDocument>/.exec(xml)![1]!));
      expect(trust.Statement, key).toEqual([
        expect.objectContaining({ Effect: 'Allow', Action: 'sts:AssumeRoleWithWebIdentity', Condition: { StringEquals: { [`${issuer}:sub`]: subject, [`${issuer}:aud`]: 'sts.amazonaws.com' } } }),
      ]);
    }
    const users = await motoQuery(endpoint, 'iam', { Action: 'ListUsers', Version: '2010-05-08' }, ACCOUNT);
    expect(users).not.toMatch(/<UserName>/);
    const instances = await motoQuery(endpoint, 'ec2', { Action: 'DescribeInstances', Version: '2016-11-15' }, ACCOUNT, REGION);
    const hopLimits = [...instances.matchAll(/<httpPutResponseHopLimit>(\d+)<\/httpPutResponseHopLimit>/g)].map((match) => match[1]);
    expect(hopLimits.length).toBeGreaterThan(0);
    expect(new Set(hopLimits)).toEqual(new Set(['1']));
  }, 60_000);

  it('reports no changes on a second run and keeps the outputs file', async () => {
    const lines: string[] = [];
    const result = await runBootstrap(options(), deps(ACCOUNT, lines));
    expect(result.outcome).toBe('no-changes');
    expect(lines).toContain('✓ no changes: stack dubai-dev already matches rendered/dev/bootstrap/');
    expect(loadEnvironment(root, ENV).outputs.source).toBe('bootstrap');
  }, 60_000);
});

describe('npm run secrets against moto_server', () => {
  // moto's CloudFormation cannot create Secrets Manager secrets (see support/moto-gaps.ts):
  // the secrets the stack would create empty are created here the same way.
  beforeAll(async () => {
    const { clients } = deps(ACCOUNT, []);
    for (const name of ['providers/openai', 'tailscale/node-auth-key']) {
      await clients.secrets.send(new CreateSecretCommand({ Name: `${config.secretsManager.prefix}${name}`, Description: 'created empty by the stack' }));
    }
  });

  it('stores a provider key in the right secret and never prints it', async () => {
    const lines: string[] = [];
    const { clients, reporter } = deps(ACCOUNT, lines);
    const value = 'sk-e2e-0123456789abcdef';
    await setSecret(config, 'providers/openai', value, { secrets: clients.secrets, sts: clients.sts, reporter });
    const stored = await clients.secrets.send(new GetSecretValueCommand({ SecretId: 'dubai/dev/providers/openai' }));
    expect(stored.SecretString).toBe(value);
    expect(lines).toEqual(['✓ stored a new value in dubai/dev/providers/openai']);
  });

  it('lists which hand-set secrets have a value without reading them', async () => {
    const lines: string[] = [];
    const { clients, reporter } = deps(ACCOUNT, lines);
    const listed = await listSecrets(config, { secrets: clients.secrets, sts: clients.sts, reporter });
    expect(listed).toEqual(
      expect.arrayContaining([
        { reference: 'providers/openai', name: 'dubai/dev/providers/openai', set: true },
        { reference: 'tailscale/node-auth-key', name: 'dubai/dev/tailscale/node-auth-key', set: false },
        { reference: 'providers/anthropic', name: 'dubai/dev/providers/anthropic', set: undefined },
      ]),
    );
    expect(lines[0]).toMatch(/^ {2}state {4}secret +what$/);
    expect(lines).toEqual(expect.arrayContaining([expect.stringMatching(/^ {2}set {6}dubai\/dev\/providers\/openai +\S/), expect.stringMatching(/^ {2}EMPTY {4}dubai\/dev\/tailscale\/node-auth-key /), expect.stringMatching(/^ {2}missing {2}dubai\/dev\/providers\/anthropic /)]));
    expect(lines.join('\n')).not.toContain('sk-e2e');
  });

  it('says to bootstrap first when the secret does not exist', async () => {
    const { clients, reporter } = deps(ACCOUNT, []);
    await expect(setSecret(config, 'providers/anthropic', 'sk-ant-e2e', { secrets: clients.secrets, sts: clients.sts, reporter })).rejects.toMatchObject({
      message: 'secret dubai/dev/providers/anthropic does not exist yet',
      fix: expect.stringContaining('npm run bootstrap -- --env dev'),
    });
  });

  it('refuses generated secrets and malformed Tailscale credentials before calling AWS', async () => {
    const lines: string[] = [];
    const { clients, reporter } = deps('111122223333', lines);
    const d = { secrets: clients.secrets, sts: clients.sts, reporter };
    await expect(setSecret(config, 'litellm/master-key', 'x', d)).rejects.toThrow(/litellm\/master-key is not a secret you set by hand in environment dev/);
    await expect(setSecret(config, 'tailscale/node-auth-key', 'not-a-key', d)).rejects.toThrow(/must be a Tailscale auth key \(it starts with tskey-auth-\)/);
    await expect(setSecret(config, 'tailscale/operator-oauth', '{"client_id":"k"}', d)).rejects.toThrow(/needs a non-empty client_id and a client_secret starting with tskey-client-/);
    // A valid value still goes through the account guard.
    await expect(setSecret(config, 'tailscale/node-auth-key', 'tskey-auth-abc123', d)).rejects.toThrow(/account 111122223333/);
  });

  it('refuses (exit 1) while a needed secret is missing or empty, naming the command for each, and accepts once all are set', async () => {
    const { clients, reporter } = deps(ACCOUNT, []);
    const d = { secrets: clients.secrets, sts: clients.sts, reporter };
    let listed = await listSecrets(config, d);
    expect(() => requireAllSet(config, listed)).toThrow(BootstrapError);
    try {
      requireAllSet(config, listed);
    } catch (error) {
      const described = (error as BootstrapError).describe();
      expect(described).toMatch(/^4 of 5 secrets environment dev needs have no value: dubai\/dev\/monitoring\/alertmanager-webhook \(missing\), dubai\/dev\/providers\/anthropic \(missing\), dubai\/dev\/tailscale\/node-auth-key \(EMPTY\), dubai\/dev\/tailscale\/operator-oauth \(missing\)/);
      expect(described).toContain('fix: run `npm run bootstrap -- --env dev` first');
      expect(described).toContain('`npm run secrets -- set --env dev tailscale/node-auth-key`');
    }
    for (const name of ['monitoring/alertmanager-webhook', 'providers/anthropic', 'tailscale/operator-oauth']) {
      await clients.secrets.send(new CreateSecretCommand({ Name: `${config.secretsManager.prefix}${name}`, Description: 'created empty by the stack' }));
    }
    await setSecret(config, 'monitoring/alertmanager-webhook', 'https://hooks.example.test/services/e2e', d);
    await setSecret(config, 'providers/anthropic', 'sk-ant-e2e-value', d);
    await setSecret(config, 'tailscale/node-auth-key', 'tskey-auth-e2e', d);
    await setSecret(config, 'tailscale/operator-oauth', JSON.stringify({ client_id: 'k1', client_secret: 'tskey-client-e2e' }), d);
    listed = await listSecrets(config, d);
    expect(listed.map((secret) => secret.set)).toEqual([true, true, true, true, true]);
    expect(() => requireAllSet(config, listed)).not.toThrow();
  });
});

describe('npm run kubeconfig against moto_server', () => {
  it('downloads the node\'s kubeconfig, points it at the tailnet name and writes it with mode 0600', async () => {
    const lines: string[] = [];
    const { clients, reporter } = deps(ACCOUNT, lines);
    const k3s = {
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'default', cluster: { server: 'https://127.0.0.1:6443', 'certificate-authority-data': 'Q0E=' } }],
      users: [{ name: 'default', user: { 'client-certificate-data': 'Q0VSVA==', 'client-key-data': 'S0VZ' } }],
      contexts: [{ name: 'default', context: { cluster: 'default', user: 'default' } }],
      'current-context': 'default',
    };
    await clients.s3.send(new PutObjectCommand({ Bucket: bucketName(config, 'kubeconfig'), Key: KUBECONFIG_KEY, Body: stringify(k3s) }));
    const out = join(root, 'home', '.kube', 'dubai-dev.yaml');
    await fetchKubeconfig(loadEnvironment(root, ENV), out, { s3: clients.s3, sts: clients.sts, reporter });
    expect(statSync(out).mode & 0o777).toBe(0o600);
    const written = parse(readFileSync(out, 'utf8')) as typeof k3s;
    expect(written.clusters).toEqual([{ name: 'dubai-dev', cluster: { server: 'https://k3s-dev.tail4f2a9c.ts.net:6443', 'certificate-authority-data': 'Q0E=' } }]);
    expect(written['current-context']).toBe('dubai-dev');
    expect(written.users[0]!.user['client-key-data']).toBe('S0VZ');
    expect(lines.join('\n')).not.toContain('S0VZ');
  });

  it('explains a kubeconfig the node has not uploaded yet', async () => {
    const { clients, reporter } = deps(ACCOUNT, []);
    const environment = loadEnvironment(root, ENV);
    const other = { ...environment, outputs: { ...environment.outputs, buckets: { ...environment.outputs.buckets, kubeconfig: bucketName(config, 'attachments') } } };
    await expect(fetchKubeconfig(other, join(root, 'never.yaml'), { s3: clients.s3, sts: clients.sts, reporter })).rejects.toThrow(/the node has not uploaded its kubeconfig yet/);
  });

  it('refuses placeholder outputs', async () => {
    const { clients, reporter } = deps(ACCOUNT, []);
    const placeholder = loadEnvironment(REPO_ROOT, ENV);
    await expect(fetchKubeconfig(placeholder, join(root, 'never.yaml'), { s3: clients.s3, sts: clients.sts, reporter })).rejects.toThrow(/still holds placeholders/);
  });
});
