/**
 * End to end against moto_server: the real bootstrap code (account guard,
 * change set, execution, waiting, outputs file) on the real rendered dev
 * template. What moto cannot do is bridged on the test's client only; see
 * test/support/moto-gaps.ts for each gap and how it is handled.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ListStackResourcesCommand } from '@aws-sdk/client-cloudformation';
import { HeadBucketCommand } from '@aws-sdk/client-s3';
import { runBootstrap, type BootstrapDeps } from '../bootstrap/scripts/bootstrap.js';
import { awsClients } from '../bootstrap/lib/aws-clients.js';
import { BootstrapError } from '../bootstrap/lib/errors.js';
import { loadEnvironment } from '../generator/config/load-environment.js';
import { bucketName } from '../bootstrap/names.js';
import { loadConfig } from '../bootstrap/lib/environment.js';
import { startMoto, type MotoServer } from './support/moto-server.js';
import { actAsAccount, bridgeMotoGaps } from './support/moto-gaps.js';
import { REPO_ROOT } from '../bootstrap/tools/python-tools.js';
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
  actAsAccount([clients.cfn, clients.sts, clients.s3, clients.secrets] as never[], account);
  bridgeMotoGaps(clients.cfn, REGION, account);
  return { clients, reporter: { info: (line) => lines.push(line), warn: (line) => lines.push(line) } };
}

const options = () => ({ root, env: ENV, yes: true, allowReplace: [], intervalMs: 100, timeoutMs: 60_000 });

beforeAll(async () => {
  moto = await startMoto();
  ({ root, remove: removeScratch } = scratchRepository(ENV));
}, 30_000);

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

  it('reports no changes on a second run and keeps the outputs file', async () => {
    const lines: string[] = [];
    const result = await runBootstrap(options(), deps(ACCOUNT, lines));
    expect(result.outcome).toBe('no-changes');
    expect(lines).toContain('✓ no changes: stack dubai-dev already matches rendered/dev/bootstrap/');
    expect(loadEnvironment(root, ENV).outputs.source).toBe('bootstrap');
  }, 60_000);
});
