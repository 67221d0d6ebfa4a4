/**
 * An Argo CD chart bump (what Renovate opens) must not touch the EC2 instance:
 * the node's user data carries no chart version or value, so the rendered
 * stack is byte-identical and only the manifests the node fetches from git
 * (and the self-managing argocd Application) change.
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
    // The bump does arrive: in the manifests the node fetches and in the argocd Application.
    expect(before.get('bootstrap/argocd-bootstrap.yaml')).not.toContain('version: 99.0.0');
    expect(after.get('bootstrap/argocd-bootstrap.yaml')).toContain('version: 99.0.0');
    const changedFiles = [...after].filter(([file, content]) => before.get(file) !== content).map(([file]) => file);
    expect(changedFiles).toEqual(expect.arrayContaining(['bootstrap/argocd-bootstrap.yaml', 'apps/application_argocd_argocd.yaml']));
    expect(changedFiles.filter((file) => STACK_FILES.includes(file))).toEqual([]);
  });

  it('keeps the stack byte-identical when the chart values change (the Argo CD host name)', () => {
    const { before, after } = bumped((config) => {
      config.hostnames.argocd = 'argocd-renamed';
    });
    expect(after.get('bootstrap/argocd-bootstrap.yaml')).toContain('argocd-renamed');
    for (const file of STACK_FILES) expect(after.get(file), file).toBe(before.get(file));
  });

  it('still changes the stack for what the node itself runs (the K3s version), so the check can fail', () => {
    const { before, after } = bumped((config) => {
      config.k3s.version = 'v1.36.4+k3s1';
    });
    expect(after.get('bootstrap/template.yaml')).not.toBe(before.get('bootstrap/template.yaml'));
  });
});
