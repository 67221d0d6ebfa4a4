/**
 * An environment's config changes only that environment's rendered output:
 * configs are changed and rendered in memory, never on disk.
 */
import { describe, expect, it } from 'vitest';
import { checkArgocdLayer } from '../generator/argocd/consistency.js';
import type { Environment } from '../generator/config/load-environment.js';
import { diffTree } from '../generator/write-rendered.js';
import { copyOf, ENVIRONMENTS, environment, facts, render, resourcesOf } from './support/environments.js';

const originals = new Map(ENVIRONMENTS.map((name) => [name, render(environment(name)).files]));

/** Renders every environment, `changed` in place of its own config, and diffs each against the unchanged render. */
function renderWith(changed: Environment) {
  const diffs = new Map<string, string[]>();
  for (const name of ENVIRONMENTS) {
    const env = name === changed.config.name ? changed : environment(name);
    const diff = diffTree(name, originals.get(name)!, render(env).files);
    diffs.set(name, [...diff.added.map((f) => `+${f}`), ...diff.changed.map((f) => `~${f}`), ...diff.removed.map((f) => `-${f}`)]);
  }
  return diffs;
}

describe('one environment config, one environment output', () => {
  it('a chart version bump in dev changes only dev\'s Longhorn Application and README', () => {
    const dev = copyOf(environment('dev'));
    dev.config.addons.longhorn.version = '1.12.9';
    const diffs = renderWith(dev);
    expect(diffs.get('dev')).toEqual(['~README.md', '~apps/application_argocd_longhorn.yaml']);
    for (const name of ENVIRONMENTS.filter((env) => env !== 'dev')) expect(diffs.get(name)).toEqual([]);
    const rendered = render(dev).files.get('apps/application_argocd_longhorn.yaml')!;
    expect(rendered).toContain('targetRevision: 1.12.9');
  });

  it('a value in staging (Longhorn replicas) changes only staging', () => {
    const staging = copyOf(environment('staging'));
    staging.config.longhorn.replicaCount = 2;
    const diffs = renderWith(staging);
    expect(diffs.get('staging')).toEqual(['~README.md', '~apps/application_argocd_longhorn.yaml', '~longhorn/storageclass_longhorn-retain.yaml']);
    for (const name of ENVIRONMENTS.filter((env) => env !== 'staging')) expect(diffs.get(name)).toEqual([]);
  });

  it('the Argo CD values in prod change its self-managing Application, the manifests the node fetches to first install it, and nothing elsewhere (not the stack)', () => {
    const prod = copyOf(environment('prod'));
    prod.config.hostnames.argocd = 'deploy';
    const diffs = renderWith(prod);
    expect(diffs.get('prod')).toEqual(['~apps/application_argocd_argocd.yaml', '~argocd/ingress_argocd_argocd-server-tailnet.yaml', '~bootstrap/argocd-bootstrap.yaml']);
    for (const name of ENVIRONMENTS.filter((env) => env !== 'prod')) expect(diffs.get(name)).toEqual([]);
  });

  it('turning the public ingress on in one environment adds cert-manager, its issuer and the public Ingress there only, and the layer still holds', () => {
    const dev = copyOf(environment('dev'));
    dev.config.publicIngress = { enabled: true, host: 'chat.dubai-hub.example', acmeEmail: 'platform@dubai-hub.example', route53HostedZoneId: 'Z0123456789ABCDEFGHIJ' };
    const diffs = renderWith(dev);
    const devDiff = diffs.get('dev')!;
    expect(devDiff).toEqual(
      expect.arrayContaining([
        '+apps/application_argocd_cert-manager.yaml',
        '+apps/application_argocd_acme-issuer.yaml',
        '+cert-manager/namespace_cert-manager.yaml',
        '+acme-issuer/clusterissuer_letsencrypt.yaml',
        '+open-webui/ingress_open-webui_open-webui-public.yaml',
        '~apps/appproject_argocd_platform.yaml',
      ]),
    );
    for (const name of ENVIRONMENTS.filter((env) => env !== 'dev')) expect(diffs.get(name)).toEqual([]);
    expect(checkArgocdLayer(resourcesOf(render(dev)), 'dev', facts(dev))).toEqual([]);
    const ingress = render(dev).files.get('open-webui/ingress_open-webui_open-webui-public.yaml')!;
    expect(ingress).toContain('traefik.ingress.kubernetes.io/router.entrypoints: websecure');
    expect(ingress).toContain('cert-manager.io/cluster-issuer: letsencrypt');
  });
});
