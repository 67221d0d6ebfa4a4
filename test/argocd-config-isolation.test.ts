/**
 * An environment's config changes only that environment's rendered output:
 * configs are changed and rendered in memory (charts hydrated with the pinned
 * helm), never on disk.
 */
import { describe, expect, it } from 'vitest';
import { checkArgocdLayer } from '../generator/argocd/consistency.js';
import type { Environment } from '../generator/config/load-environment.js';
import { diffTree } from '../generator/write-rendered.js';
import { copyOf, ENVIRONMENTS, environment, facts, renderWithCharts, resourcesOf } from './support/environments.js';

const originals = new Map(await Promise.all(ENVIRONMENTS.map(async (name) => [name, (await renderWithCharts(environment(name))).files] as const)));

/** Renders every environment, `changed` in place of its own config, and diffs each against the unchanged render. */
async function renderWith(changed: Environment) {
  const diffs = new Map<string, string[]>();
  for (const name of ENVIRONMENTS) {
    const env = name === changed.config.name ? changed : environment(name);
    const diff = diffTree(name, originals.get(name)!, (await renderWithCharts(env)).files);
    diffs.set(name, [...diff.added.map((f) => `+${f}`), ...diff.changed.map((f) => `~${f}`), ...diff.removed.map((f) => `-${f}`)]);
  }
  return diffs;
}

describe('one environment config, one environment output', { timeout: 300_000 }, () => {
  it('a chart value in staging (Longhorn replicas) changes only staging\'s Longhorn folder and README', async () => {
    const staging = copyOf(environment('staging'));
    staging.config.longhorn.replicaCount = 3;
    const diffs = await renderWith(staging);
    expect(diffs.get('staging')).toEqual([
      '~README.md',
      '~longhorn/configmap_longhorn-system_longhorn-default-setting.yaml',
      '~longhorn/configmap_longhorn-system_longhorn-storageclass.yaml',
      '~longhorn/deployment_longhorn-system_longhorn-driver-deployer.yaml',
      '~longhorn/storageclass_longhorn-retain.yaml',
    ]);
    for (const name of ENVIRONMENTS.filter((env) => env !== 'staging')) expect(diffs.get(name)).toEqual([]);
  });

  it('the Argo CD values in prod change its folder (which the node applies to install it), and nothing elsewhere (not the stack, not its Application)', async () => {
    const prod = copyOf(environment('prod'));
    prod.config.hostnames.argocd = 'deploy';
    const diffs = await renderWith(prod);
    expect(diffs.get('prod')!.length).toBeGreaterThan(1);
    expect(diffs.get('prod')!.filter((file) => !file.startsWith('~argocd/'))).toEqual([]);
    expect(diffs.get('prod')).toContain('~argocd/ingress_argocd_argocd-server-tailnet.yaml');
    expect(diffs.get('prod')).toContain('~argocd/configmap_argocd_argocd-cm.yaml');
    for (const name of ENVIRONMENTS.filter((env) => env !== 'prod')) expect(diffs.get(name)).toEqual([]);
  });

  it('turning the public ingress on in one environment adds cert-manager (chart and CRDs), its issuer and the public Ingress there only, and the layer still holds', async () => {
    const dev = copyOf(environment('dev'));
    dev.config.publicIngress = { enabled: true, host: 'chat.dubai-hub.example', acmeEmail: 'platform@dubai-hub.example', route53HostedZoneId: 'Z0123456789ABCDEFGHIJ' };
    const diffs = await renderWith(dev);
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
    const rendered = await renderWithCharts(dev);
    expect(checkArgocdLayer(resourcesOf(rendered), 'dev', facts(dev))).toEqual([]);
    expect(devDiff.filter((file) => file.startsWith('+cert-manager/customresourcedefinition_')).length).toBe(6);
    const ingress = rendered.files.get('open-webui/ingress_open-webui_open-webui-public.yaml')!;
    expect(ingress).toContain('traefik.ingress.kubernetes.io/router.entrypoints: websecure');
    expect(ingress).toContain('cert-manager.io/cluster-issuer: letsencrypt');
  });
});
