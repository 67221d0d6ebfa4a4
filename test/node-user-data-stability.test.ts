/**
 * An Argo CD chart bump (what Renovate opens) must not touch the EC2 instance:
 * the node's user data carries no chart version or value (it applies the
 * hydrated rendered/<env>/argocd/ it fetches from git), so the rendered stack
 * is byte-identical whatever the chart's version or values.
 */
import { describe, expect, it } from 'vitest';
import { copyOf, environment, render } from './support/environments.js';

const STACK_FILES = ['bootstrap/template.yaml', 'bootstrap/parameters.json'];

function bumped(edit: (config: ReturnType<typeof environment>['config']) => void) {
  const base = environment('dev');
  const changed = copyOf(base);
  edit(changed.config);
  return { before: render(base).files, after: render(changed).files };
}

describe('a chart bump and the node', () => {
  it('renders the same CloudFormation template and parameters, UserData included, when the Argo CD chart version moves', () => {
    const { before, after } = bumped((config) => {
      config.addons.argocd.version = '99.0.0';
    });
    for (const file of STACK_FILES) expect(after.get(file), file).toBe(before.get(file));
    // The bump does arrive (the environment README lists it; the hydrated folder changes with the archive).
    const changedFiles = [...after].filter(([file, content]) => before.get(file) !== content).map(([file]) => file);
    expect(changedFiles).toEqual(['README.md']);
    expect(after.get('README.md')).toContain('99.0.0');
  });

  it('keeps the stack byte-identical when the chart values change (the Argo CD host name)', () => {
    const { before, after } = bumped((config) => {
      config.hostnames.argocd = 'argocd-renamed';
    });
    expect(after.get('argocd/ingress_argocd_argocd-server-tailnet.yaml')).toContain('argocd-renamed');
    for (const file of STACK_FILES) expect(after.get(file), file).toBe(before.get(file));
  });

  it('still changes the stack for what the node itself runs (the K3s version), so the check can fail', () => {
    const { before, after } = bumped((config) => {
      config.k3s.version = 'v1.36.4+k3s1';
    });
    expect(after.get('bootstrap/template.yaml')).not.toBe(before.get('bootstrap/template.yaml'));
  });
});
