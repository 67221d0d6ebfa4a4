/**
 * restore-database against moto_server on 127.0.0.1: the source cluster is
 * created through moto's RDS API, and the verb reads its restorable window
 * from moto's DescribeDBClusters, refuses times outside it (and in the
 * future) with that window in the message, and plans the restore of a time
 * inside it. What moto cannot do (gap 13 in test/support/moto-gaps.ts) is
 * checked here too, so the gap list stays true: its CloudFormation creates no
 * restored DBCluster, and its RDS restores to any time, even outside the
 * window. The deploy and the outputs switch run against mocked clients in
 * test/ops-restore-database.test.ts.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateStackCommand, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { CreateDBClusterCommand, DescribeDBClustersCommand, ModifyDBClusterCommand, RestoreDBClusterToPointInTimeCommand } from '@aws-sdk/client-rds';
import { awsClients, type AwsClients } from '../bootstrap/lib/aws-clients.js';
import { loadConfig } from '../bootstrap/lib/environment.js';
import { ensurePythonTools, REPO_ROOT, TOOL_INSTALL_TIMEOUT_MS } from '../bootstrap/tools/python-tools.js';
import { main } from '../ops/cli.js';
import { EXIT } from '../ops/plan.js';
import { restoreDatabaseVerb } from '../ops/verbs/restore-database.js';
import { startMoto, type MotoServer } from './support/moto-server.js';
import { actAsAccount, answerStackClusters } from './support/moto-gaps.js';
import { scratchRepository } from './support/scratch-repo.js';

const ENV = 'dev';
const SOURCE = 'dubai-dev-auroracluster-moto1';
const config = loadConfig(REPO_ROOT, ENV);

let moto: MotoServer;
let scratch: ReturnType<typeof scratchRepository>;
let earliest: Date;

function clients(): AwsClients {
  const made = awsClients({ region: config.aws.region, endpoint: moto.endpoint, credentials: { accessKeyId: 'AKIAMOTOTEST', secretAccessKey: 'moto' } });
  actAsAccount([made.cfn, made.sts, made.rds!] as never[], config.aws.accountId);
  answerStackClusters(made.cfn, { AuroraCluster: SOURCE });
  return made;
}

async function ops(argv: string[]) {
  const lines: string[] = [];
  let err = '';
  const code = await main(['restore-database', '--env', ENV, '--root', scratch.root, ...argv], {
    verbs: [restoreDatabaseVerb({ clients })],
    reporter: { info: (line) => lines.push(line), warn: (line) => lines.push(`WARN ${line}`) },
    confirmer: () => ({ confirm: async () => false }),
    stdout: () => undefined,
    stderr: (text) => (err += text),
  });
  return { code, lines, err };
}

const envFile = () => readFileSync(join(scratch.root, 'environments', `${ENV}.yaml`), 'utf8');
const seconds = (date: Date) => `${date.toISOString().slice(0, 19)}Z`;

beforeAll(async () => {
  ensurePythonTools();
  moto = await startMoto(60_000);
  scratch = scratchRepository(ENV);
  const rds = clients().rds!;
  await rds.send(
    new CreateDBClusterCommand({ DBClusterIdentifier: SOURCE, Engine: 'aurora-postgresql', EngineVersion: config.aurora.engineVersion, MasterUsername: 'hubadmin', MasterUserPassword: 'moto-only-password', DeletionProtection: true }),
  );
  earliest = (await rds.send(new DescribeDBClustersCommand({ DBClusterIdentifier: SOURCE }))).DBClusters![0]!.EarliestRestorableTime!;
  // A whole second inside the window must be in the past before the plan is asked for.
  while (Date.now() < earliest.getTime() + 2_500) await new Promise((resolve) => setTimeout(resolve, 250));
}, TOOL_INSTALL_TIMEOUT_MS + 90_000);

afterAll(async () => {
  scratch?.remove();
  await moto?.stop();
}, 30_000);

describe('what moto 5.2.1 gives and lacks for a point-in-time restore (gap 13)', () => {
  it('reports a restorable window and takes DeletionProtection changes', async () => {
    const rds = clients().rds!;
    const cluster = (await rds.send(new DescribeDBClustersCommand({ DBClusterIdentifier: SOURCE }))).DBClusters![0]!;
    expect(cluster.EarliestRestorableTime).toBeInstanceOf(Date);
    expect(cluster.LatestRestorableTime!.getTime()).toBeGreaterThanOrEqual(cluster.EarliestRestorableTime!.getTime());
    expect(cluster.DeletionProtection).toBe(true);
    const modified = await rds.send(new ModifyDBClusterCommand({ DBClusterIdentifier: SOURCE, DeletionProtection: false, ApplyImmediately: true }));
    expect(modified.DBCluster?.DeletionProtection).toBe(false);
    await rds.send(new ModifyDBClusterCommand({ DBClusterIdentifier: SOURCE, DeletionProtection: true, ApplyImmediately: true }));
  }, 30_000);

  it('creates no restored DBCluster from CloudFormation, and restores to a time outside the window through its API', async () => {
    const made = clients();
    const before = (await made.rds!.send(new DescribeDBClustersCommand({}))).DBClusters!.map((cluster) => cluster.DBClusterIdentifier);
    const template = { Resources: { Restored: { Type: 'AWS::RDS::DBCluster', Properties: { Engine: 'aurora-postgresql', SourceDBClusterIdentifier: SOURCE, RestoreToTime: seconds(earliest), RestoreType: 'full-copy' } } } };
    await made.cfn.send(new CreateStackCommand({ StackName: 'moto-gap-restore', TemplateBody: JSON.stringify(template) }));
    expect((await made.cfn.send(new DescribeStacksCommand({ StackName: 'moto-gap-restore' }))).Stacks?.[0]?.StackStatus).toBe('CREATE_COMPLETE');
    expect((await made.rds!.send(new DescribeDBClustersCommand({}))).DBClusters!.map((cluster) => cluster.DBClusterIdentifier)).toEqual(before);
    const outside = await made.rds!.send(new RestoreDBClusterToPointInTimeCommand({ DBClusterIdentifier: 'moto-gap-outside', SourceDBClusterIdentifier: SOURCE, RestoreToTime: new Date('2000-01-01T00:00:00Z'), RestoreType: 'full-copy' }));
    expect(outside.DBCluster?.DBClusterIdentifier).toBe('moto-gap-outside');
  }, 30_000);
});

describe('restore-database on moto', () => {
  it('plans a restore to a time inside the window read from moto, and changes nothing on --dry-run', async () => {
    const before = envFile();
    const target = seconds(new Date(Math.ceil((earliest.getTime() + 1) / 1000) * 1000));
    const result = await ops(['--to', target, '--dry-run']);
    expect(result.err).toBe('');
    expect(result.code).toBe(EXIT.ok);
    expect(result.lines.find((line) => line.startsWith(`✓ ${target} is inside the window ${earliest.toISOString()} to `))).toBeDefined();
    expect(result.lines).toContain(`  1. add restore generation 2 (to ${target}, from ${SOURCE}) to environments/dev.yaml (aurora.restores)`);
    expect(result.lines).toContain('dry run: nothing was changed');
    expect(envFile()).toBe(before);
  }, 60_000);

  it('refuses a time before the window with the window moto reports, and a time in the future', async () => {
    const early = seconds(new Date(earliest.getTime() - 3_600_000));
    const refused = await ops(['--to', early, '--dry-run']);
    expect(refused.code).toBe(EXIT.failed);
    expect(refused.err).toMatch(new RegExp(`--to ${early} is outside the restorable window of ${SOURCE}: ${earliest.toISOString().replace(/\./g, '\\.')} to \\d{4}-`));
    const future = await ops(['--to', seconds(new Date(Date.now() + 86_400_000)), '--dry-run']);
    expect(future.code).toBe(EXIT.usage);
    expect(future.err).toMatch(/is in the future/);
  }, 60_000);

  it('asks before the destructive deploy and stops when not confirmed (exit 3)', async () => {
    const before = envFile();
    const result = await ops(['--to', seconds(new Date(Math.ceil((earliest.getTime() + 1) / 1000) * 1000))]);
    expect(result.code).toBe(EXIT.declined);
    expect(result.lines).toContain('WARN not confirmed: nothing was changed');
    expect(envFile()).toBe(before);
  }, 60_000);
});
