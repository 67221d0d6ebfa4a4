/**
 * "Instance gone, stack present", end to end on moto_server: the dev stack is
 * created by the real bootstrap, its server's instance is terminated behind
 * CloudFormation's back, the bootstrap then refuses to report "no changes",
 * and `npm run ops -- recover-node` re-creates exactly that server under its
 * next generation, keeping its data volume. What moto cannot create (Aurora,
 * secrets, bucket policies, …) is bridged as in test/support/moto-gaps.ts.
 */
import { describe, expect, it } from 'vitest';
import { DescribeInstancesCommand, DescribeVolumesCommand, TerminateInstancesCommand } from '@aws-sdk/client-ec2';
import { loadConfig } from '../bootstrap/lib/environment.js';
import { EXIT } from '../ops/plan.js';
import { recoverNodeVerb } from '../ops/verbs/recover-node.js';
import { useDeployedStack, type MotoClients } from './support/moto-ops-suite.js';

const ENV = 'dev';

let lostInstance = '';
let dataVolume = '';

const suite = useDeployedStack({
  env: ENV,
  verb: (clients) => recoverNodeVerb({ clients, intervalMs: 100 }),
  afterDeploy: async ({ resources }) => {
    const before = await resources();
    lostInstance = before.get('NodeInstance')!;
    dataVolume = before.get('NodeDataVolume')!;
    expect(lostInstance).toMatch(/^i-/);
  },
});
const { ops, clients, resources, envFile } = suite;

async function stateOf(made: MotoClients, instanceId: string): Promise<string | undefined> {
  const described = await made.ec2!.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }));
  return described.Reservations?.[0]?.Instances?.[0]?.State?.Name;
}

describe('recover-node against moto_server', () => {
  it('has nothing to do while the server runs', async () => {
    const result = await ops(['recover-node', '--env', ENV]);
    expect(result.code).toBe(EXIT.ok);
    expect(result.lines).toContain(`  server 1 NodeInstance ${lostInstance}: running`);
    expect(result.lines).toContain('✓ every server of dubai-dev has its instance; nothing to recover');
  }, 60_000);

  it('refuses --server for a server that runs', async () => {
    const result = await ops(['recover-node', '--env', ENV, '--server', '1']);
    expect(result.code).toBe(EXIT.failed);
    expect(result.err).toMatch(/server 1 is not lost \(server 1 NodeInstance i-\w+: running\)/);
  }, 60_000);

  it('makes the bootstrap refuse "no changes" once the instance is terminated, naming the server and the verb', async () => {
    const made = clients();
    await made.ec2!.send(new TerminateInstancesCommand({ InstanceIds: [lostInstance] }));
    expect(await stateOf(made, lostInstance)).toBe('terminated');
    const attempt = suite.bootstrap();
    await expect(attempt).rejects.toMatchObject({
      message: expect.stringContaining(`stack dubai-dev matches the template, but a server instance is gone`),
      fix: expect.stringContaining('npm run ops -- recover-node --env dev --server 1'),
    });
    await expect(attempt).rejects.toThrow(new RegExp(`server 1 NodeInstance ${lostInstance}: terminated`));
  }, 120_000);

  it('on --dry-run prints the plan and changes neither the file nor the stack', async () => {
    const before = envFile();
    const result = await ops(['recover-node', '--env', ENV, '--dry-run']);
    expect(result.code).toBe(EXIT.ok);
    expect(result.lines).toEqual(
      expect.arrayContaining([
        're-create server 1 of dubai-dev (NodeInstance → NodeInstanceG2)',
        expect.stringMatching(/^ {2}! this is the only server: the new instance starts a new K3s cluster/),
        '  1. set server 1 to generation 2 in environments/dev.yaml (cluster.serverGenerations)',
        '  2. write rendered/dev/bootstrap/ (template.yaml, parameters.json) for the new generation',
        "  3. deploy dubai-dev: add NodeInstanceG2 and NodeDataVolumeAttachmentG2, remove NodeInstance (with npm run bootstrap's checks)  [destructive]",
        '  4. wait until NodeInstanceG2 is running',
        'dry run: nothing was changed',
      ]),
    );
    expect(envFile()).toBe(before);
    expect((await resources()).has('NodeInstanceG2')).toBe(false);
  }, 60_000);

  it('changes nothing when the operator does not confirm (exit 3)', async () => {
    const before = envFile();
    const result = await ops(['recover-node', '--env', ENV]);
    expect(result.code).toBe(EXIT.declined);
    expect(envFile()).toBe(before);
  }, 60_000);

  it('re-creates the server under its next generation, keeps the data volume, and the next bootstrap has no changes', async () => {
    const result = await ops(['recover-node', '--env', ENV], true);
    expect(result.lines.filter((line) => line.startsWith('WARN'))).toEqual([]);
    expect(result.code).toBe(EXIT.ok);
    expect(result.lines.filter((line) => /^\[\d\/4\]/.test(line))).toHaveLength(4);
    expect(result.lines.some((line) => /^ {2}server 1 NodeInstanceG2 i-\w+: running$/.test(line))).toBe(true);
    expect(result.lines.join('\n')).toMatch(/git add environments\/dev\.yaml environments\/dev\.outputs\.yaml rendered\/dev/);

    expect(envFile()).toMatch(/serverGenerations:\n\s+- server: 1\n\s+generation: 2/);
    expect(loadConfig(suite.root, ENV).cluster.serverGenerations).toEqual([{ server: 1, generation: 2 }]);
    const made = clients();
    const after = await resources();
    expect(after.has('NodeInstance')).toBe(false);
    const replacement = after.get('NodeInstanceG2')!;
    expect(replacement).toMatch(/^i-/);
    expect(replacement).not.toBe(lostInstance);
    expect(await stateOf(made, replacement)).toBe('running');
    expect(after.get('NodeDataVolume')).toBe(dataVolume);
    const volume = await made.ec2!.send(new DescribeVolumesCommand({ VolumeIds: [dataVolume] }));
    expect(volume.Volumes?.[0]?.Attachments?.map((attachment) => attachment.InstanceId)).toContain(replacement);

    expect((await suite.bootstrap()).outcome).toBe('no-changes');
    expect((await ops(['recover-node', '--env', ENV])).lines).toContain('✓ every server of dubai-dev has its instance; nothing to recover');
  }, 240_000);
});
