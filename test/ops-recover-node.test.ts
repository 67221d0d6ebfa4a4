/**
 * recover-node where moto is not needed or cannot help: the generation in the
 * template (which ids change, which stay), the quorum rule on a three-server
 * cluster with EC2 mocked (moto's HA stack takes minutes to create, and an
 * instance EC2 has forgotten is answered InvalidInstanceID.NotFound only by
 * the real service), and the environment file edit keeping its comments.
 */
import { describe, expect, it } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import { CloudFormationClient, ListStackResourcesCommand } from '@aws-sdk/client-cloudformation';
import { DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { parse } from 'yaml';
import { quorumCheck, losesQuorum } from '../bootstrap/lib/change-set.js';
import { loadConfig } from '../bootstrap/lib/environment.js';
import { bootstrapTemplate } from '../bootstrap/template/stack.js';
import { REPO_ROOT } from '../bootstrap/tools/python-tools.js';
import type { EnvConfig } from '../generator/config/schema.js';
import { main } from '../ops/cli.js';
import { EXIT } from '../ops/plan.js';
import { recoverNodeVerb, restoredCluster, withServerGeneration } from '../ops/verbs/recover-node.js';

const prod = loadConfig(REPO_ROOT, 'prod');
const withGenerations = (config: EnvConfig, serverGenerations: EnvConfig['cluster']['serverGenerations']): EnvConfig => ({ ...config, cluster: { ...config.cluster, serverGenerations } });

describe('a server generation in the template', () => {
  const template = bootstrapTemplate(withGenerations(prod, [{ server: 2, generation: 3 }]));
  const resources = template.Resources;

  it('renames exactly that server\'s instance and attachment, keeps its volume, and follows the new id everywhere', () => {
    expect(resources['Server2Instance']).toBeUndefined();
    expect(resources['Server2DataVolumeAttachment']).toBeUndefined();
    expect(resources['Server2InstanceG3']?.Type).toBe('AWS::EC2::Instance');
    expect(resources['Server2DataVolumeAttachmentG3']?.Properties).toMatchObject({ InstanceId: { Ref: 'Server2InstanceG3' }, VolumeId: { Ref: 'Server2DataVolume' } });
    expect(resources['Server2DataVolume']?.Type).toBe('AWS::EC2::Volume');
    for (const id of ['NodeInstance', 'Server3Instance', 'NodeDataVolumeAttachment']) expect(resources[id], id).toBeDefined();
    expect(resources['Server3Instance']?.DependsOn).toContain('Server2InstanceG3');
    expect(template.Outputs['Server2InstanceId']?.Value).toEqual({ Ref: 'Server2InstanceG3' });
    expect(JSON.stringify(resources['RegistrationTargetGroup'])).toContain('"Ref":"Server2InstanceG3"');
    expect(JSON.stringify(template)).not.toMatch(/"Server2Instance"/);
  });

  it('is unchanged at generation 1, so existing stacks see no change', () => {
    expect(bootstrapTemplate(withGenerations(prod, []))).toEqual(bootstrapTemplate(prod));
    expect(bootstrapTemplate(withGenerations(prod, [{ server: 1, generation: 2 }])).Resources['NodeInstanceG2']).toBeDefined();
  });

  it('counts as one server lost for the quorum rule (an Add and a Remove), two at once as too many', () => {
    const add = (logicalId: string) => ({ logicalId, type: 'AWS::EC2::Instance', action: 'Add', details: [] });
    const remove = (logicalId: string) => ({ logicalId, type: 'AWS::EC2::Instance', action: 'Remove', details: [] });
    const one = quorumCheck([add('Server2InstanceG3'), remove('Server2Instance')], 3);
    expect(one).toMatchObject({ before: 3, tolerance: 1 });
    expect(losesQuorum(one)).toBe(false);
    expect(losesQuorum(quorumCheck([add('Server2InstanceG2'), remove('Server2Instance'), add('NodeInstanceG2'), remove('NodeInstance')], 3))).toBe(true);
  });
});

describe('the environment file edit', () => {
  it('adds or bumps the entry and keeps comments and the rest of the file', () => {
    const text = '# prod: three servers\nname: prod\ncluster:\n  servers: 3 # odd, for etcd\n';
    const once = withServerGeneration(text, prod, 2, 2);
    expect(once).toContain('# prod: three servers');
    expect(once).toContain('servers: 3 # odd, for etcd');
    expect(parse(once).cluster).toEqual({ servers: 3, serverGenerations: [{ server: 2, generation: 2 }] });
    const twice = withServerGeneration(once, withGenerations(prod, [{ server: 2, generation: 2 }, { server: 3, generation: 4 }]), 2, 3);
    expect(parse(twice).cluster.serverGenerations).toEqual([{ server: 2, generation: 3 }, { server: 3, generation: 4 }]);
  });
});

describe('recover-node on a three-server cluster (EC2 mocked)', () => {
  const INSTANCES: Record<string, string> = { NodeInstance: 'i-0000000000000001', Server2Instance: 'i-0000000000000002', Server3Instance: 'i-0000000000000003' };

  async function run(states: Record<string, string | 'forgotten'>, argv: string[] = []) {
    const cfn = mockClient(CloudFormationClient);
    const ec2 = mockClient(EC2Client);
    const sts = mockClient(STSClient);
    try {
      sts.on(GetCallerIdentityCommand).resolves({ Account: prod.aws.accountId, Arn: 'arn:aws:iam::210987654323:user/on-call' });
      cfn.on(ListStackResourcesCommand).resolves({
        StackResourceSummaries: Object.entries(INSTANCES).map(([LogicalResourceId, PhysicalResourceId]) => ({ LogicalResourceId, PhysicalResourceId, ResourceType: 'AWS::EC2::Instance', ResourceStatus: 'CREATE_COMPLETE', LastUpdatedTimestamp: new Date(0) })),
      });
      for (const [logicalId, state] of Object.entries(states)) {
        const InstanceId = INSTANCES[logicalId]!;
        const described = ec2.on(DescribeInstancesCommand, { InstanceIds: [InstanceId] });
        if (state === 'forgotten') described.rejects(Object.assign(new Error(`The instance ID '${InstanceId}' does not exist`), { name: 'InvalidInstanceID.NotFound' }));
        else described.resolves({ Reservations: [{ Instances: [{ InstanceId, State: { Name: state as never } }] }] });
      }
      const clients = () => ({ cfn: new CloudFormationClient({}), ec2: new EC2Client({}), sts: new STSClient({}), s3: new S3Client({}), secrets: new SecretsManagerClient({}) });
      const lines: string[] = [];
      let err = '';
      const code = await main(['recover-node', '--env', 'prod', '--dry-run', ...argv], {
        verbs: [recoverNodeVerb({ clients })],
        reporter: { info: (line) => lines.push(line), warn: (line) => lines.push(`WARN ${line}`) },
        confirmer: () => ({ confirm: async () => false }),
        stdout: () => undefined,
        stderr: (text) => (err += text),
      });
      return { code, lines, err, describedEc2: ec2.commandCalls(DescribeInstancesCommand).length };
    } finally {
      cfn.restore();
      ec2.restore();
      sts.restore();
    }
  }

  it('plans one lost server (EC2 has forgotten it) with the join through Secrets Manager\'s token', async () => {
    const result = await run({ NodeInstance: 'running', Server2Instance: 'forgotten', Server3Instance: 'running' });
    expect(result.err).toBe('');
    expect(result.code).toBe(EXIT.ok);
    expect(result.lines).toContain('  server 2 Server2Instance i-0000000000000002: missing');
    expect(result.lines).toContain('re-create server 2 of dubai-prod (Server2Instance → Server2InstanceG2)');
    expect(result.lines).toContain('  ! the new server joins the 2 other servers with the K3s token from Secrets Manager; etcd copies its data over');
    expect(result.lines).toContain(`  ! remove the lost server from etcd first, if not done yet: kubectl delete node ${prod.hostnames.node}-2 (K3s then drops its etcd member)`);
    expect(result.lines).toContain('dry run: nothing was changed');
  });

  it('refuses when more servers are gone than etcd can lose, pointing at the snapshot restore', async () => {
    const result = await run({ NodeInstance: 'terminated', Server2Instance: 'running', Server3Instance: 'shutting-down' });
    expect(result.code).toBe(EXIT.failed);
    expect(result.err).toMatch(/2 of the 3 servers are gone; etcd keeps its quorum only while at most 1 is/);
    expect(result.err).toMatch(/server 1 NodeInstance i-0000000000000001: terminated\n {2}server 3 Server3Instance i-0000000000000003: shutting-down/);
    expect(result.err).toMatch(/fix: restore the cluster from the latest etcd snapshot/);
    expect(result.lines.some((line) => /^re-create/.test(line))).toBe(false);
  });

  it('re-creates one server per run and names the others for later; a stopped server is not lost', async () => {
    const result = await run({ NodeInstance: 'stopped', Server2Instance: 'running', Server3Instance: 'terminated' });
    expect(result.code).toBe(EXIT.ok);
    expect(result.lines).toContain('re-create server 3 of dubai-prod (Server3Instance → Server3InstanceG2)');
    const stopped = await run({ NodeInstance: 'stopped', Server2Instance: 'running', Server3Instance: 'running' }, ['--server', '1']);
    expect(stopped.code).toBe(EXIT.failed);
    expect(stopped.err).toMatch(/server 1 is not lost \(server 1 NodeInstance i-0000000000000001: stopped\)/);
  });

  it('refuses a server number the environment does not have (exit 2)', async () => {
    const result = await run({ NodeInstance: 'running', Server2Instance: 'running', Server3Instance: 'terminated' }, ['--server', '4']);
    expect(result.code).toBe(EXIT.usage);
    expect(result.err).toMatch(/--server 4: environment prod has servers 1 to 3/);
  });
});

describe('after recover-cluster', () => {
  const restored = withGenerations({ ...prod, cluster: { ...prod.cluster, etcdRestore: { snapshot: 'etcd-snapshot-k3s-prod-1764612000', generation: 2 } } }, [{ server: 1, generation: 2 }]);
  const state = (server: number, generation: number, state: string) => ({ server, generation, logicalId: `S${server}`, instanceId: `i-${server}`, state });

  it('lets the lost servers rejoin one per run while the restored first server runs (etcd has only the members that rejoined)', () => {
    expect(restoredCluster(restored, [state(1, 2, 'running'), state(2, 1, 'terminated'), state(3, 1, 'terminated')])).toBe(true);
  });

  it('does not while the restored server is itself gone, nor for another generation, nor without a restore', () => {
    expect(restoredCluster(restored, [state(1, 2, 'terminated'), state(2, 1, 'terminated'), state(3, 1, 'running')])).toBe(false);
    expect(restoredCluster(restored, [state(1, 3, 'running'), state(2, 1, 'terminated'), state(3, 1, 'terminated')])).toBe(false);
    expect(restoredCluster(prod, [state(1, 1, 'running'), state(2, 1, 'terminated'), state(3, 1, 'terminated')])).toBe(false);
  });
});
