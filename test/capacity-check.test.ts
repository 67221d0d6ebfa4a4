/**
 * The capacity check: the requests of every rendered pod against the nodes
 * at the minimum node count. The real environments fit (and their READMEs
 * show the budget); an over-committed fixture is refused with a located
 * error; the counting follows replicas, autoscalers, DaemonSets and Jobs.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { capacityBudget, memoryBytes, milliCpu, NODE_RESERVE, podGroups } from '../generator/cluster/capacity.js';
import { ConfigError, formatIssue } from '../generator/config/errors.js';
import { loadEnvironment, locateIssues } from '../generator/config/load-environment.js';
import type { Manifest } from '../generator/render-environment.js';
import { environment, render } from './support/environments.js';
import { fixtureRepo } from './support/config-issues.js';
import { FIXTURES, type TempRepo } from './support/temp-repo.js';

let repo: TempRepo | undefined;
afterEach(() => repo?.cleanup());

describe.each(['dev', 'staging', 'prod'])('%s', (name) => {
  it('fits its nodes at the minimum node count, and its README shows the budget', () => {
    const env = environment(name);
    const rendered = render(env);
    const { budget, issues } = capacityBudget(env.config, rendered.resources.map(({ manifest }) => manifest));
    expect(issues).toEqual([]);
    expect(budget!.steady.milliCpu + budget!.largestOneOff.milliCpu).toBeLessThanOrEqual(budget!.allocatable.milliCpu);
    expect(budget!.steady.bytes + budget!.largestOneOff.bytes).toBeLessThanOrEqual(budget!.allocatable.bytes);
    const readme = rendered.files.get('README.md')!;
    expect(readme).toMatch(/^## Capacity$/m);
    expect(readme).toMatch(/^\| allocatable \| \d+\.\d\d vCPU \| \d+\.\d GiB \|$/m);
    expect(readme).toMatch(/^\| requested by running pods \| \d+\.\d\d vCPU \(\d+ %\) \| \d+\.\d GiB \(\d+ %\) \|$/m);
  });
});

describe('the over-committed fixture', () => {
  const text = readFileSync(join(FIXTURES, 'capacity', 'over-committed.yaml'), 'utf8');
  const expected = /^# expect-problem: (.*)$/m.exec(text)![1]!;

  it('is refused by the render with where, what and how to fix', () => {
    repo = fixtureRepo(text);
    const env = loadEnvironment(repo.root, 'fixture');
    let error: unknown;
    try {
      render(env);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const issues = locateIssues(repo.root, (error as ConfigError).issues);
    const issue = issues.find((item) => item.problem.includes(expected));
    expect(issue, issues.map((item) => item.problem).join('\n')).toBeDefined();
    expect(issue).toMatchObject({ file: 'environments/fixture.yaml', path: 'node.instanceType', line: 10 });
    expect(issue!.fix).toMatch(/larger node.instanceType, add agents/);
    expect(formatIssue(issue!)).toMatch(/^environments\/fixture\.yaml:10:\d+: node\.instanceType: the pods request /);
  });

  it('fits once the node is large enough (so the check is about size, not the fixture)', () => {
    repo = fixtureRepo(text.replace('instanceType: t3.medium', 'instanceType: t3.large'));
    expect(() => render(loadEnvironment(repo!.root, 'fixture'))).not.toThrow();
  });

  it('names an instance type it does not know', () => {
    repo = fixtureRepo(text.replace('instanceType: t3.medium', 'instanceType: x9.huge'));
    expect(() => render(loadEnvironment(repo!.root, 'fixture'))).toThrow(/node.instanceType: the capacity check does not know instance type x9.huge/);
  });
});

describe('counting the pods', () => {
  const pod = (cpu: string, memory: string) => ({ containers: [{ name: 'c', resources: { requests: { cpu, memory } } }] });
  const manifests = [
    { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'a' }, spec: { replicas: 3, template: { spec: pod('500m', '1Gi') } } },
    { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'api', namespace: 'a' }, spec: { template: { spec: pod('250m', '512Mi') } } },
    { apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: { name: 'api', namespace: 'a' }, spec: { scaleTargetRef: { kind: 'Deployment', name: 'api' }, minReplicas: 2, maxReplicas: 6 } },
    { apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name: 'agent', namespace: 'b' }, spec: { template: { spec: { ...pod('100m', '128Mi'), initContainers: [{ name: 'i', resources: { requests: { cpu: '2', memory: '64Mi' } } }] } } } },
    { apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'migrate', namespace: 'a' }, spec: { template: { spec: pod('1', '2Gi') } } },
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x', namespace: 'a' } },
  ] as unknown as Manifest[];

  it('counts replicas, the autoscaler minimum (and maximum), a DaemonSet per node and Jobs as one-off pods', () => {
    expect(podGroups(manifests, 5).map((group) => [group.owner, group.pods, group.maxPods, group.each, group.oneOff])).toEqual([
      ['Deployment a/web', 3, 3, { milliCpu: 500, bytes: 2 ** 30 }, false],
      ['Deployment a/api', 2, 6, { milliCpu: 250, bytes: 2 ** 29 }, false],
      // The init container needs more CPU than the containers: the pod reserves it.
      ['DaemonSet b/agent', 5, 5, { milliCpu: 2000, bytes: 2 ** 27 }, false],
      ['Job a/migrate', 1, 1, { milliCpu: 1000, bytes: 2 ** 31 }, true],
    ]);
  });

  it('reads Kubernetes quantities', () => {
    expect([milliCpu('250m'), milliCpu('2'), milliCpu('0.5'), milliCpu(undefined)]).toEqual([250, 2000, 500, 0]);
    expect([memoryBytes('1Gi'), memoryBytes('128Mi'), memoryBytes('1G'), memoryBytes('1000')]).toEqual([2 ** 30, 2 ** 27, 1e9, 1000]);
    expect(() => milliCpu('lots')).toThrow(/not a CPU quantity/);
  });

  it('refuses what does not fit at the minimum node count, even if the maximum would fit', () => {
    const config = structuredClone(environment('prod').config);
    config.cluster.servers = 1;
    config.cluster.agents = { ...config.cluster.agents, min: 0 };
    config.node.instanceType = 't3.medium';
    const { issues } = capacityBudget(config, manifests);
    const available = 2000 - NODE_RESERVE.server.milliCpu;
    expect(available).toBe(1000);
    expect(issues.map((issue) => issue.path)).toEqual(['cluster.agents.min', 'cluster.agents.min', 'node.instanceType']);
    expect(issues[0]!.problem).toMatch(/^the pods request 5\.00 vCPU \(steady 4\.00 vCPU plus the largest one-off Job\) but 1 × t3.medium offer 1\.00 vCPU/);
    expect(issues[2]!.problem).toMatch(/one pod of DaemonSet b\/agent requests 2\.00 vCPU/);
  });
});
