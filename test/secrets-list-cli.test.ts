/**
 * `npm run secrets -- list` as people run it, against moto_server: exit 1 with
 * the table while a secret the environment needs is missing or EMPTY, exit 0
 * once every one has a value. The scratch copy of dev is moved to moto's
 * default account, so the real command line needs no test-only hooks.
 */
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateSecretCommand, PutSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { awsClients } from '../bootstrap/lib/aws-clients.js';
import { ensurePythonTools, REPO_ROOT, TOOL_INSTALL_TIMEOUT_MS } from '../bootstrap/tools/python-tools.js';
import { scratchRepository } from './support/scratch-repo.js';
import { startMoto, type MotoServer } from './support/moto-server.js';

const MOTO_ACCOUNT = '123456789012';
const TSX = join(REPO_ROOT, 'node_modules', '.bin', 'tsx');
let moto: MotoServer;
let scratch: ReturnType<typeof scratchRepository>;

beforeAll(async () => {
  ensurePythonTools();
  moto = await startMoto();
  scratch = scratchRepository('dev');
  const file = join(scratch.root, 'environments', 'dev.yaml');
  writeFileSync(file, readFileSync(file, 'utf8').replace(/accountId: "\d{12}"/, `accountId: "${MOTO_ACCOUNT}"`));
}, TOOL_INSTALL_TIMEOUT_MS);

afterAll(async () => {
  await moto?.stop();
  scratch?.remove();
});

function list(): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(TSX, [join(REPO_ROOT, 'bootstrap', 'scripts', 'secrets.ts'), 'list', '--env', 'dev', '--root', scratch.root], {
      cwd: REPO_ROOT,
      env: { ...process.env, AWS_ENDPOINT_URL: moto.endpoint, AWS_ACCESS_KEY_ID: 'AKIAMOTOTEST', AWS_SECRET_ACCESS_KEY: 'moto', AWS_EC2_METADATA_DISABLED: 'true', AWS_PROFILE: '' },
      timeout: 60_000,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

describe('npm run secrets -- list', () => {
  it('exits 1 with a table of what is missing or EMPTY, and the command for each', async () => {
    const secrets = awsClients({ region: 'me-central-1', endpoint: moto.endpoint, credentials: { accessKeyId: 'AKIAMOTOTEST', secretAccessKey: 'moto' } }).secrets;
    await secrets.send(new CreateSecretCommand({ Name: 'dubai/dev/providers/openai', SecretString: 'sk-cli-0123456789' }));
    await secrets.send(new CreateSecretCommand({ Name: 'dubai/dev/tailscale/node-auth-key' }));
    const result = await list();
    expect(result.status).toBe(1);
    expect(result.stdout).toMatch(/^ {2}state {4}secret +what$/m);
    expect(result.stdout).toMatch(/^ {2}set {6}dubai\/dev\/providers\/openai /m);
    expect(result.stdout).toMatch(/^ {2}EMPTY {4}dubai\/dev\/tailscale\/node-auth-key /m);
    expect(result.stdout).toMatch(/^ {2}missing {2}dubai\/dev\/providers\/anthropic /m);
    expect(result.stderr).toContain('Error: 4 of 5 secrets environment dev needs have no value');
    expect(result.stderr).toContain('`npm run secrets -- set --env dev tailscale/operator-oauth`');
    expect(result.stdout + result.stderr).not.toContain('sk-cli-0123456789');
  }, 120_000);

  it('exits 0 once every secret has a value', async () => {
    const secrets = awsClients({ region: 'me-central-1', endpoint: moto.endpoint, credentials: { accessKeyId: 'AKIAMOTOTEST', secretAccessKey: 'moto' } }).secrets;
    await secrets.send(new PutSecretValueCommand({ SecretId: 'dubai/dev/tailscale/node-auth-key', SecretString: 'tskey-auth-cli' }));
    await secrets.send(new CreateSecretCommand({ Name: 'dubai/dev/providers/anthropic', SecretString: 'sk-ant-cli' }));
    await secrets.send(new CreateSecretCommand({ Name: 'dubai/dev/tailscale/operator-oauth', SecretString: '{"client_id":"k","client_secret":"tskey-client-cli"}' }));
    await secrets.send(new CreateSecretCommand({ Name: 'dubai/dev/monitoring/alertmanager-webhook', SecretString: 'https://hooks.example/alerts' }));
    const result = await list();
    // (stderr may hold the SDK's Node version warning where the tests run on a Node older than engines.)
    expect(result.stderr).not.toMatch(/Error/);
    expect(result.status).toBe(0);
    expect(result.stdout.match(/^ {2}set /gm)).toHaveLength(5);
  }, 120_000);
});
