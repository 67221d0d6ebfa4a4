/**
 * The HA stack (prod: three servers in three zones, the registration load
 * balancer, the agents' launch template and Auto Scaling group, the Aurora
 * reader) deployed by the real bootstrap code against moto_server, the way
 * test/bootstrap-moto-e2e.test.ts deploys dev. Its template is above
 * CloudFormation's 51,200-byte request limit, so the bootstrap uploads it to
 * S3 first. What moto does not emulate is listed in test/support/moto-gaps.ts
 * (Aurora and its reader, Secrets Manager, bucket policies, security-group
 * egress and the load balancer's TCP listener are left out of what moto
 * creates) and is tested on the template instead
 * (test/bootstrap-template-hardening.test.ts); moto's instances do not boot
 * their user data (test/node-roles.test.ts runs its role logic). moto's
 * change sets do not say which changes replace an instance, so the refusal
 * to replace a majority of servers is tested with the SDK mocked
 * (test/bootstrap-deploy-mocked.test.ts).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ListStackResourcesCommand } from '@aws-sdk/client-cloudformation';
import { GetObjectCommand, HeadBucketCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { runBootstrap, type BootstrapDeps } from '../bootstrap/scripts/bootstrap.js';
import { awsClients, type AwsClients } from '../bootstrap/lib/aws-clients.js';
import { loadConfig } from '../bootstrap/lib/environment.js';
import { templateBucketName } from '../bootstrap/lib/template-upload.js';
import { renderTemplateYaml } from '../bootstrap/render.js';
import { loadEnvironment } from '../generator/config/load-environment.js';
import { ensurePythonTools, REPO_ROOT, TOOL_INSTALL_TIMEOUT_MS } from '../bootstrap/tools/python-tools.js';
import { startMoto, type MotoServer } from './support/moto-server.js';
import { actAsAccount, bridgeMotoGaps, holdBucketPolicies, terminationProtection } from './support/moto-gaps.js';
import { scratchRepository } from './support/scratch-repo.js';

const ENV = 'prod';
const config = loadConfig(REPO_ROOT, ENV);
const ACCOUNT = config.aws.accountId;
const REGION = config.aws.region;
const STACK = 'dubai-prod';

let moto: MotoServer;
let root: string;
let removeScratch: () => void;

const heldPolicies: { bucket: string; policy: string }[] = [];

function deps(lines: string[], account = ACCOUNT): BootstrapDeps & { clients: AwsClients } {
  const clients = awsClients({ region: REGION, endpoint: moto.endpoint, credentials: { accessKeyId: 'AKIAMOTOTEST', secretAccessKey: 'moto' } });
  actAsAccount([clients.cfn, clients.sts, clients.s3, clients.secrets, clients.ec2!] as never[], account);
  bridgeMotoGaps(clients.cfn, REGION, ACCOUNT, clients.s3);
  const held = holdBucketPolicies(clients.s3);
  const record = { info: (line: string) => (lines.push(line), heldPolicies.push(...held.splice(0))), warn: (line: string) => lines.push(line) };
  // prod replicates its backups (backups.replication): the replica stack's region, bridged the same way.
  const clientsIn = (region: string) => {
    const regional = awsClients({ region, endpoint: moto.endpoint, credentials: { accessKeyId: 'AKIAMOTOTEST', secretAccessKey: 'moto' } });
    actAsAccount([regional.cfn, regional.sts, regional.s3] as never[], account);
    bridgeMotoGaps(regional.cfn, region, ACCOUNT, regional.s3);
    holdBucketPolicies(regional.s3);
    return regional;
  };
  return { clients, clientsIn, reporter: record };
}

const options = () => ({ root, env: ENV, yes: true, allowReplace: [], intervalMs: 100, timeoutMs: 120_000 });

beforeAll(async () => {
  ensurePythonTools();
  moto = await startMoto();
  ({ root, remove: removeScratch } = scratchRepository(ENV));
}, TOOL_INSTALL_TIMEOUT_MS);

afterAll(async () => {
  await moto?.stop();
  removeScratch?.();
});

async function physicalIds(clients: AwsClients): Promise<Map<string, { type: string; id: string }>> {
  const listed = await clients.cfn.send(new ListStackResourcesCommand({ StackName: STACK }));
  return new Map((listed.StackResourceSummaries ?? []).map((resource) => [resource.LogicalResourceId!, { type: resource.ResourceType!, id: resource.PhysicalResourceId ?? '' }]));
}

describe('npm run bootstrap of the HA stack against moto_server', () => {
  it('uploads nothing and creates nothing with credentials of another account', async () => {
    const lines: string[] = [];
    const wrong = deps(lines, '111122223333');
    await expect(runBootstrap(options(), wrong)).rejects.toThrow(/account 111122223333 .* but environments\/prod\.yaml sets aws\.accountId 210987654323; nothing was changed/);
    expect(lines.some((line) => /s3:\/\//.test(line))).toBe(false);
    const mine = deps([]);
    await expect(mine.clients.s3.send(new HeadBucketCommand({ Bucket: templateBucketName(config) }))).rejects.toMatchObject({ name: 'NotFound' });
    await expect(mine.clients.cfn.send(new ListStackResourcesCommand({ StackName: STACK }))).rejects.toThrow(/does not exist/);
  }, 60_000);

  it('uploads the oversized template to its own private bucket and creates servers, load balancer and agent group', async () => {
    const lines: string[] = [];
    const d = deps(lines);
    const result = await runBootstrap(options(), d);
    expect(result).toEqual({ outcome: 'deployed', outputsFile: 'environments/prod.outputs.yaml' });
    expect(lines.some((line) => /^Creating s3:\/\/dubai-prod-cfn-templates-210987654323 for templates above 51200 bytes/.test(line))).toBe(true);
    expect(lines.some((line) => /^✓ template \(\d+ bytes, over the 51200-byte request limit\) uploaded to s3:\/\/dubai-prod-cfn-templates-210987654323\/dubai-prod\/[0-9a-f]{64}\.json$/.test(line))).toBe(true);

    // What was uploaded is the reviewed template, as JSON, in a bucket whose policy refuses plain HTTP.
    const bucket = templateBucketName(config);
    expect(heldPolicies).toHaveLength(1);
    expect(heldPolicies[0]!.bucket).toBe(bucket);
    expect(JSON.parse(heldPolicies[0]!.policy).Statement).toEqual([expect.objectContaining({ Effect: 'Deny', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]);
    await d.clients.s3.send(new HeadBucketCommand({ Bucket: bucket }));
    const listed = await d.clients.s3.send(new ListObjectsV2Command({ Bucket: bucket }));
    expect(listed.Contents).toHaveLength(1);
    const uploaded = await d.clients.s3.send(new GetObjectCommand({ Bucket: bucket, Key: listed.Contents![0]!.Key! }));
    const { parse } = await import('yaml');
    expect(JSON.parse(await uploaded.Body!.transformToString())).toEqual(parse(readFileSync(join(REPO_ROOT, 'rendered', ENV, 'bootstrap', 'template.yaml'), 'utf8')));
    expect(renderTemplateYaml(config)).toBe(readFileSync(join(REPO_ROOT, 'rendered', ENV, 'bootstrap', 'template.yaml'), 'utf8'));

    const resources = await physicalIds(d.clients);
    const created = (id: string) => resources.get(id);
    for (const id of ['NodeInstance', 'Server2Instance', 'Server3Instance']) expect(created(id), id).toMatchObject({ type: 'AWS::EC2::Instance', id: expect.stringMatching(/^i-/) });
    for (const id of ['NodeDataVolume', 'Server2DataVolume', 'Server3DataVolume']) expect(created(id)?.id, id).toMatch(/^vol-/);
    for (const id of ['PublicSubnet', 'PublicSubnetB', 'PublicSubnetC']) expect(created(id)?.id, id).toMatch(/^subnet-/);
    // moto makes it an application load balancer (its handler drops Type: network; see support/moto-gaps.ts).
    expect(created('RegistrationLoadBalancer')).toMatchObject({ type: 'AWS::ElasticLoadBalancingV2::LoadBalancer', id: expect.stringMatching(/^arn:aws:elasticloadbalancing:me-central-1:210987654323:loadbalancer\//) });
    expect(created('RegistrationTargetGroup')?.type).toBe('AWS::ElasticLoadBalancingV2::TargetGroup');
    expect(created('AgentLaunchTemplate')).toMatchObject({ type: 'AWS::EC2::LaunchTemplate', id: expect.stringMatching(/^lt-/) });
    expect(created('AgentGroup')?.type).toBe('AWS::AutoScaling::AutoScalingGroup');
    for (const id of ['NodeIngressEtcd', 'NodeIngressKubelet', 'NodeIngressFlannel', 'NodeIngressSupervisor', 'NodeIngressSupervisorFromLoadBalancer']) expect(created(id)?.type, id).toBe('AWS::EC2::SecurityGroupIngress');
    // Not emulated by moto (left out, tested on the template): Aurora and its reader, egress rules, the TCP listener.
    for (const id of ['AuroraCluster', 'AuroraReader1', 'NodeEgressEtcd', 'RegistrationListener']) expect(created(id), id).toBeUndefined();

    // Production: the stack's termination protection is turned on (answered by the bridge: moto fails on it).
    expect(lines).toContain('✓ stack termination protection is on (production)');
    // The replica stack first (backups.replication; test/bootstrap-moto-replication.test.ts checks what it holds).
    expect(terminationProtection).toEqual([
      { StackName: `${STACK}-replica`, EnableTerminationProtection: true },
      { StackName: STACK, EnableTerminationProtection: true },
    ]);

    expect(loadEnvironment(root, ENV).outputs).toMatchObject({ source: 'bootstrap', stackName: STACK, buckets: { etcdSnapshots: 'dubai-prod-etcd-snapshots-210987654323' } });
  }, 180_000);

  it('reports no changes on a second run, through the same uploaded template', async () => {
    const lines: string[] = [];
    const result = await runBootstrap(options(), deps(lines));
    expect(result.outcome).toBe('no-changes');
    expect(lines.some((line) => /^Creating s3:/.test(line))).toBe(false);
    expect(lines).toContain('✓ no changes: stack dubai-prod already matches rendered/prod/bootstrap/');
  }, 180_000);
});
