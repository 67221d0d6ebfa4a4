/**
 * recover-cluster end to end on moto_server: the dev stack created by the real
 * bootstrap, etcd snapshots in its etcd bucket (as K3s writes them, with its
 * metadata sub-folder), the only server terminated; the verb picks the newest
 * snapshot (or --snapshot), refuses what it must, and re-creates the server
 * with cluster.etcdRestore rendered into its user data. moto does not boot
 * user data: the node side of the restore runs in test/node-roles.test.ts.
 * What moto cannot create is bridged as in test/support/moto-gaps.ts.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { DescribeInstancesCommand, TerminateInstancesCommand } from '@aws-sdk/client-ec2';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { loadConfig } from '../bootstrap/lib/environment.js';
import { bucketName } from '../bootstrap/names.js';
import { userDataScript } from '../bootstrap/template/user-data.js';
import { REPO_ROOT } from '../bootstrap/tools/python-tools.js';
import { EXIT } from '../ops/plan.js';
import { recoverClusterVerb } from '../ops/verbs/recover-cluster.js';
import { useDeployedStack } from './support/moto-ops-suite.js';

const ENV = 'dev';
const config = loadConfig(REPO_ROOT, ENV);
const BUCKET = bucketName(config, 'etcdSnapshots');
const OLDER = 'etcd-snapshot-k3s-dev-1764590400';
const NEWEST = 'etcd-snapshot-k3s-dev-1764612000';

const suite = useDeployedStack({ env: ENV, verb: (clients) => recoverClusterVerb({ clients, intervalMs: 100 }) });
const { ops, clients, resources, envFile } = suite;

describe('recover-cluster against moto_server', () => {
  it('refuses while the server still has its instance', async () => {
    const result = await ops(['recover-cluster', '--env', ENV]);
    expect(result.code).toBe(EXIT.failed);
    expect(result.err).toMatch(/server 1 still has its instance: recover-cluster starts over from a snapshot only when no server is left/);
    expect(result.err).toMatch(/fix: to roll a running node back to a snapshot, terminate its instance first/);
  }, 60_000);

  it('refuses when the etcd bucket holds no snapshot', async () => {
    const made = clients();
    const instance = (await resources()).get('NodeInstance')!;
    await made.ec2!.send(new TerminateInstancesCommand({ InstanceIds: [instance] }));
    const result = await ops(['recover-cluster', '--env', ENV]);
    expect(result.code).toBe(EXIT.failed);
    expect(result.err).toContain(`there is no etcd snapshot in s3://${BUCKET}/etcd/ to restore`);
  }, 60_000);

  it('refuses an unknown --snapshot, listing the newest (K3s metadata is not a snapshot)', async () => {
    const s3 = clients().s3;
    for (const name of [OLDER, NEWEST]) await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: `etcd/${name}`, Body: `snapshot ${name}` }));
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: `etcd/.metadata/${NEWEST}`, Body: '{}' }));
    const result = await ops(['recover-cluster', '--env', ENV, '--snapshot', 'etcd-snapshot-k3s-dev-1']);
    expect(result.code).toBe(EXIT.failed);
    expect(result.err).toMatch(new RegExp(`there is no etcd snapshot "etcd-snapshot-k3s-dev-1" in s3://${BUCKET}/etcd/; the newest are:\\n {2}${NEWEST} .*\\n {2}${OLDER} `));
    expect(result.err).not.toContain('.metadata');
  }, 60_000);

  it('on --dry-run picks the newest snapshot and prints the plan, changing nothing', async () => {
    const before = envFile();
    const result = await ops(['recover-cluster', '--env', ENV, '--dry-run']);
    expect(result.err).toBe('');
    expect(result.code).toBe(EXIT.ok);
    expect(result.lines).toEqual(
      expect.arrayContaining([
        expect.stringMatching(new RegExp(`^ {2}${NEWEST} .* {3}← restoring this one$`)),
        `restore dubai-dev's cluster from etcd snapshot ${NEWEST} on a new server 1`,
        expect.stringMatching(/^ {2}! the cluster comes back as it was at .*; what changed in Kubernetes since is lost/),
        `  1. set server 1 to generation 2 and cluster.etcdRestore to ${NEWEST} in environments/dev.yaml`,
        "  3. deploy dubai-dev: add NodeInstanceG2 and NodeDataVolumeAttachmentG2, remove NodeInstance (with npm run bootstrap's checks)  [destructive]",
        'dry run: nothing was changed',
      ]),
    );
    expect(envFile()).toBe(before);
  }, 60_000);

  it('re-creates the server from --snapshot with the restore in its user data; the next bootstrap has no changes', async () => {
    const result = await ops(['recover-cluster', '--env', ENV, '--snapshot', OLDER, '--yes']);
    expect(result.lines.filter((line) => line.startsWith('WARN'))).toEqual([]);
    expect(result.code).toBe(EXIT.ok);
    expect(loadConfig(suite.root, ENV).cluster).toMatchObject({ serverGenerations: [{ server: 1, generation: 2 }], etcdRestore: { snapshot: OLDER, generation: 2 } });

    const template = parse(readFileSync(join(suite.root, 'rendered', ENV, 'bootstrap', 'template.yaml'), 'utf8')) as { Resources: Record<string, { Properties: { UserData: unknown } }> };
    expect(userDataScript(template.Resources['NodeInstanceG2']!.Properties.UserData)).toContain(`readonly ETCD_RESTORE_SNAPSHOT='${OLDER}'`);

    const made = clients();
    const replacement = (await resources()).get('NodeInstanceG2')!;
    const described = await made.ec2!.send(new DescribeInstancesCommand({ InstanceIds: [replacement] }));
    expect(described.Reservations?.[0]?.Instances?.[0]?.State?.Name).toBe('running');
    expect((await suite.bootstrap()).outcome).toBe('no-changes');
  }, 240_000);
});
