/**
 * The cluster section: defaults, the shape of the repository's environments
 * (dev one server; staging and prod three servers in three zones plus
 * agents), the warning for replicas that share one node (loaded, printed,
 * not refused), and the topology arithmetic the checks and the render use.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { longhornPlacement, longhornReplicaCount, schedulableNodes, serverFailureTolerance, serverZones, zoneCount } from '../generator/cluster/topology.js';
import { formatIssue } from '../generator/config/errors.js';
import { loadEnvironment } from '../generator/config/load-environment.js';
import { environment } from './support/environments.js';
import { fixtureRepo, MINIMAL_CONFIG } from './support/config-issues.js';
import { FIXTURES, type TempRepo } from './support/temp-repo.js';

let repo: TempRepo | undefined;
afterEach(() => repo?.cleanup());

describe('the cluster section of the repository environments', () => {
  it('keeps dev on one server with no agents (the defaults)', () => {
    const { config } = environment('dev');
    expect(config.cluster).toEqual({ servers: 1, agents: { min: 0, desired: 0, max: 0, instanceType: 't3.xlarge', dataVolumeGiB: 100 }, whenUnsatisfiable: 'ScheduleAnyway', serverAmiOverrides: [], serverGenerations: [] });
    expect(zoneCount(config)).toBe(1);
    expect(longhornReplicaCount(config)).toBe(1);
  });

  it.each(['staging', 'prod'])('runs %s as three servers in three zones plus agents', (name) => {
    const { config } = environment(name);
    expect(config.cluster.servers).toBe(3);
    expect(zoneCount(config)).toBe(3);
    expect(serverZones(config)).toEqual([0, 1, 2]);
    expect(config.cluster.agents.min).toBeGreaterThanOrEqual(1);
    expect(longhornPlacement(config)).toEqual({ replicas: 3, replicaSoftAntiAffinity: false, replicaZoneSoftAntiAffinity: false });
  });
});

describe('topology arithmetic', () => {
  it('tolerates the loss of a minority of servers only', () => {
    expect([1, 3, 5, 7].map(serverFailureTolerance)).toEqual([0, 1, 2, 3]);
  });

  it('places servers round-robin and counts agents at their minimum', () => {
    const config = structuredClone(environment('prod').config);
    config.cluster.servers = 5;
    config.cluster.agents.min = 0;
    expect(serverZones(config)).toEqual([0, 1, 2, 0, 1]);
    expect(schedulableNodes(config)).toBe(5);
    config.network.additionalPublicSubnetCidrs = [];
    expect(serverZones(config)).toEqual([0, 0, 0, 0, 0]);
    // One zone cannot hold three replicas apart: the zone rule turns soft, the node rule stays hard.
    expect(longhornPlacement(config)).toEqual({ replicas: 3, replicaSoftAntiAffinity: false, replicaZoneSoftAntiAffinity: true });
  });
});

describe('a warning names the risk and does not refuse the environment', () => {
  const text = readFileSync(join(FIXTURES, 'warnings', 'replicas-on-one-node.yaml'), 'utf8');

  it('loads the fixture with one located warning', () => {
    repo = fixtureRepo(text);
    const loaded = loadEnvironment(repo.root, 'fixture');
    const expected = /^# expect-problem: (.*)$/m.exec(text)![1]!;
    expect(loaded.warnings).toHaveLength(1);
    const [warning] = loaded.warnings!;
    expect(warning).toMatchObject({ severity: 'warning', path: 'openWebUI.replicas', file: 'environments/fixture.yaml' });
    expect(warning!.problem).toContain(expected);
    expect(warning!.line).toBeGreaterThan(0);
    expect(formatIssue(warning!)).toMatch(/^environments\/fixture\.yaml:\d+:\d+: warning: openWebUI\.replicas: 2 Open WebUI replicas all run on the one node: they survive a crashed pod, not a lost node or zone/);
  });

  it('is not given for one replica, nor for replicas on several nodes', () => {
    repo = fixtureRepo(MINIMAL_CONFIG);
    expect(loadEnvironment(repo.root, 'fixture').warnings).toBeUndefined();
    repo.cleanup();
    repo = fixtureRepo(`${text}cluster:\n  agents:\n    min: 1\n    desired: 1\n    max: 1\n`);
    expect(loadEnvironment(repo.root, 'fixture').warnings).toBeUndefined();
  });
});
