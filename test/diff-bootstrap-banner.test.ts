/**
 * `npm run diff` and its pull-request comment tell a reviewer when a change
 * needs `npm run bootstrap`: a changed CloudFormation template or parameters,
 * with the exact command per environment, the secrets to store for a new
 * provider, and whether CloudFormation restarts or replaces the node.
 */
import { describe, expect, it } from 'vitest';
import type { Environment } from '../generator/config/load-environment.js';
import { compareRendered } from '../generator/diff/compare.js';
import { formatMarkdown, formatText } from '../generator/diff/format.js';
import { copyOf, environment, render } from './support/environments.js';

const context = { base: 'origin/main', baseCommit: '0123456789abcdef0123' };
const tree = (env: Environment) => new Map([...render(env).files].map(([file, content]) => [`${env.config.name}/${file}`, content]));

function diffAfter(edit: (config: Environment['config']) => void) {
  const base = environment('dev');
  const changed = copyOf(base);
  edit(changed.config);
  return compareRendered(tree(base), tree(changed));
}

describe('the bootstrap banner', () => {
  it('is absent when only Argo CD content changes (a chart bump)', () => {
    const diff = diffAfter((config) => {
      config.addons.argocd.version = '99.0.0';
    });
    expect(diff.environments.map((env) => env.env)).toEqual(['dev']);
    expect(diff.bootstrap).toEqual([]);
    expect(formatText(diff, context)).not.toMatch(/npm run bootstrap/);
    expect(formatMarkdown(diff, context)).not.toMatch(/WARNING|npm run bootstrap/);
  });

  it('names the command and that the node stays up for a parameter the node does not use (Aurora capacity)', () => {
    const diff = diffAfter((config) => {
      config.aurora.maxCapacity = 4;
    });
    expect(diff.bootstrap).toEqual([
      { env: 'dev', command: 'npm run bootstrap -- --env dev', files: ['rendered/dev/bootstrap/parameters.json'], creates: false, node: [], secretCommands: [] },
    ]);
    const text = formatText(diff, context);
    expect(text).toContain('!! Needs npm run bootstrap: this change alters the AWS stack');
    expect(text).toContain('!!   dev: npm run bootstrap -- --env dev (rendered/dev/bootstrap/parameters.json changed)');
    expect(text).not.toMatch(/RESTARTS|REPLACES/);
  });

  it('says RESTARTS THE NODE for a user-data change (the K3s version)', () => {
    const diff = diffAfter((config) => {
      config.k3s.version = 'v1.36.4+k3s1';
    });
    expect(diff.bootstrap[0]!.node).toEqual([{ instance: 'NodeInstance', effect: 'restarts', properties: ['UserData'] }]);
    expect(formatText(diff, context)).toContain('RESTARTS THE NODE (CloudFormation stops and starts the instance): NodeInstance UserData changes');
  });

  it('says RESTARTS THE NODE for an instance type change, read through the parameters file', () => {
    const diff = diffAfter((config) => {
      config.node.instanceType = 't3.2xlarge';
    });
    expect(diff.bootstrap[0]!.files).toEqual(['rendered/dev/bootstrap/parameters.json']);
    expect(diff.bootstrap[0]!.node).toEqual([{ instance: 'NodeInstance', effect: 'restarts', properties: ['InstanceType'] }]);
  });

  it('says REPLACES THE NODE for a new AMI', () => {
    const diff = diffAfter((config) => {
      config.node.amiId = 'ami-0123456789abcdef0';
    });
    expect(diff.bootstrap[0]!.node).toEqual([{ instance: 'NodeInstance', effect: 'replaces', properties: ['ImageId'] }]);
    const markdown = formatMarkdown(diff, context);
    expect(markdown).toContain('> [!WARNING]');
    expect(markdown).toContain('> - dev: `npm run bootstrap -- --env dev` (`rendered/dev/bootstrap/parameters.json` changed)');
    expect(markdown).toMatch(/> {3}- REPLACES THE NODE .*: `NodeInstance` `ImageId` changes/);
  });

  it('names the secret to store when a model adds a provider, and the node stays up', () => {
    const diff = diffAfter((config) => {
      config.litellm.models.push({ ...config.litellm.models[0]!, name: 'mistral-large', model: 'mistral/mistral-large-latest', apiKeySecret: 'providers/mistral' });
    });
    expect(diff.bootstrap).toEqual([
      expect.objectContaining({ env: 'dev', files: ['rendered/dev/bootstrap/template.yaml'], node: [], secretCommands: ['npm run secrets -- set --env dev providers/mistral'] }),
    ]);
    expect(formatMarkdown(diff, context)).toContain('>   - then store the new secret: `npm run secrets -- set --env dev providers/mistral`');
  });

  it('says a new environment creates its stack', () => {
    const qa = copyOf(environment('dev'));
    qa.config.name = 'qa';
    const diff = compareRendered(new Map(), tree(qa));
    expect(diff.bootstrap).toEqual([expect.objectContaining({ env: 'qa', command: 'npm run bootstrap -- --env qa', creates: true, node: [] })]);
    expect(formatText(diff, context)).toContain('qa: npm run bootstrap -- --env qa (creates the stack)');
  });
});

describe('the bootstrap banner of a cluster (prod: three servers and agents)', () => {
  function prodDiffAfter(edit: (config: Environment['config']) => void) {
    const base = environment('prod');
    const changed = copyOf(base);
    edit(changed.config);
    return compareRendered(tree(base), tree(changed));
  }

  it('says a new AMI replaces each server (one per run) and rolls the agents', () => {
    const diff = prodDiffAfter((config) => {
      config.node.amiId = 'ami-0fedcba9876543210';
    });
    expect(diff.bootstrap[0]!.node).toEqual([
      { instance: 'AgentLaunchTemplate', effect: 'rolls', properties: ['ImageId'] },
      { instance: 'NodeInstance', effect: 'replaces', properties: ['ImageId'], clustered: true },
      { instance: 'Server2Instance', effect: 'replaces', properties: ['ImageId'], clustered: true },
      { instance: 'Server3Instance', effect: 'replaces', properties: ['ImageId'], clustered: true },
    ]);
    const text = formatText(diff, context);
    expect(text).toContain('REPLACES THE AGENTS ONE AT A TIME (the Auto Scaling group\'s rolling update): AgentLaunchTemplate ImageId changes');
    expect(text).toContain('REPLACES A SERVER (a new instance that joins the others; the bootstrap refuses to replace a majority of the servers at once): Server2Instance ImageId changes');
    expect(text).not.toContain('a new cluster, restored from the etcd snapshot bucket');
  });

  it('holding servers 2 and 3 on their AMI leaves only server 1 (and the agents) to replace', () => {
    const diff = prodDiffAfter((config) => {
      config.cluster.serverAmiOverrides = [2, 3].map((server) => ({ server, amiId: config.node.amiId }));
      config.node.amiId = 'ami-0fedcba9876543210';
    });
    expect(diff.bootstrap[0]!.node.map((node) => [node.instance, node.effect])).toEqual([
      ['AgentLaunchTemplate', 'rolls'],
      ['NodeInstance', 'replaces'],
    ]);
  });

  it('says the servers restart one after another for a user-data change', () => {
    const diff = prodDiffAfter((config) => {
      config.k3s.version = 'v1.36.4+k3s1';
    });
    expect(diff.bootstrap[0]!.node.map((node) => [node.instance, node.effect])).toEqual([
      ['AgentLaunchTemplate', 'rolls'],
      ['NodeInstance', 'restarts'],
      ['Server2Instance', 'restarts'],
      ['Server3Instance', 'restarts'],
    ]);
    expect(formatText(diff, context)).toContain('RESTARTS A SERVER (CloudFormation stops and starts the servers one after another): NodeInstance UserData changes');
  });
});
