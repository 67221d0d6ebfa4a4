/**
 * Digests: every image the committed rendered/ trees run (or hand to a
 * controller to start) is repository:tag@sha256:<digest>, except the listed
 * images whose digest could not be read offline; that list has no stale entry;
 * the chart pins apply only to the chart version they were read for.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { planCrd } from '../generator/addons/system-upgrade.js';
import { loadEnvironment } from '../generator/config/load-environment.js';
import { CHART_IMAGE_PINS, DIGEST_NOT_OBTAINABLE_OFFLINE, withChartImagePins } from '../generator/images/chart-images.js';
import { parseRendered, readRenderedInputs } from '../generator/validate/manifests.js';
import { checkPolicy, POLICY_RULES } from '../generator/validate/policy/index.js';
import { imageUses, isDigestPinned } from '../generator/validate/policy/images.js';
import { containersOf, podTemplates } from '../generator/validate/policy/pods.js';
import { docsFrom, REPO_ROOT } from './helpers/validation.js';

const rule = POLICY_RULES.find((candidate) => candidate.id === 'image-digest')!;
const renderedImages = () =>
  readRenderedInputs(REPO_ROOT).flatMap((input) =>
    podTemplates(parseRendered(input).docs).flatMap((pod) => containersOf(pod).flatMap((ref) => imageUses(ref).map((use) => ({ env: input.env, image: use.image, where: `${pod.doc.file} ${use.what}` })))),
  );

describe('image digests in the rendered trees', () => {
  it('every image is pinned by digest or listed with its reason, and every listed image is still rendered', () => {
    const images = renderedImages();
    const unpinned = images.filter((use) => !isDigestPinned(use.image));
    expect(unpinned.filter((use) => !(use.image in DIGEST_NOT_OBTAINABLE_OFFLINE))).toEqual([]);
    const stale = Object.keys(DIGEST_NOT_OBTAINABLE_OFFLINE).filter((image) => !unpinned.some((use) => use.image === image));
    expect(stale, 'entries of DIGEST_NOT_OBTAINABLE_OFFLINE that no rendered image uses any more: remove them').toEqual([]);
    for (const reason of Object.values(DIGEST_NOT_OBTAINABLE_OFFLINE)) expect(reason).toMatch(/^digest not obtainable offline \(.+\)$/);
    // The generator's own images and the pinned chart images are digests in every environment.
    for (const repository of [
      'ghcr.io/open-webui/open-webui', 'ghcr.io/valkey-io/valkey', 'docker.io/oliver006/redis_exporter', 'docker.io/library/postgres', 'quay.io/argoproj/argocd', 'ecr-public.aws.com/docker/library/redis', 'docker.io/tailscale/tailscale', 'ghcr.io/external-secrets/external-secrets',
      'quay.io/prometheus/prometheus', 'quay.io/prometheus-operator/prometheus-config-reloader', 'quay.io/prometheus/alertmanager', 'registry.k8s.io/kube-state-metrics/kube-state-metrics', 'quay.io/prometheus/node-exporter', 'docker.io/grafana/grafana', 'docker.io/victoriametrics/victoria-logs', 'registry.k8s.io/kubectl',
    ]) {
      const uses = images.filter((use) => use.image.startsWith(`${repository}:`));
      expect(uses.length, repository).toBeGreaterThan(0);
      for (const use of uses) expect(isDigestPinned(use.image), `${use.where}: ${use.image}`).toBe(true);
    }
  });

  it('the rule names each unpinned image, in containers, controller arguments and *_IMAGE variables, and a digest without a tag', () => {
    const { findings } = checkPolicy('fixture', docsFrom('policy/image-digest.yaml', readFileSync(join(REPO_ROOT, 'test/fixtures/policy/image-digest.yaml'), 'utf8')), [rule]);
    expect(findings.map((finding) => finding.path)).toEqual([
      'spec.template.spec.containers[0].image',
      'spec.template.spec.containers[0].args[1]',
      'spec.template.spec.containers[0].args[2]',
      'spec.template.spec.containers[0].env[0].value',
      'spec.template.spec.containers[1].image',
    ]);
    expect(findings[0]!.message).toContain('uses image "docker.io/example/app:1.2.3" without a digest; expected repository:tag@sha256:<digest>');
    expect(findings[0]!.message).toContain('Fix: set the image\'s digest field');
  });

  it('chart pins are written as tag@digest into the chart values, and only for the chart version they were read for', () => {
    const { config } = loadEnvironment(REPO_ROOT, 'dev');
    const argocd = withChartImagePins(config, 'argocd', { global: { domain: 'x' } }) as { global: { domain: string; image: { repository: string; tag: string } } };
    expect(argocd.global.domain).toBe('x');
    expect(argocd.global.image).toEqual({ repository: 'quay.io/argoproj/argocd', tag: `v3.3.7@${config.chartImages.argocd.digest}` });
    const moved = { ...config, addons: { ...config.addons, argocd: { ...config.addons.argocd, version: '99.0.0' } } };
    expect(withChartImagePins(moved, 'argocd', {})).toEqual({});
    for (const pin of CHART_IMAGE_PINS) expect(config.addons[pin.chart].version).toBe(pin.chartVersion);
  });

  it('charts with their own registry value get the host split off, and node-exporter its digest in image.digest', () => {
    const { config } = loadEnvironment(REPO_ROOT, 'dev');
    const grafana = withChartImagePins(config, 'grafana', {}) as { image: Record<string, string> };
    expect(grafana.image).toEqual({ registry: 'docker.io', repository: 'grafana/grafana', tag: `13.2.0@${config.chartImages.grafana.digest}` });
    const monitoring = withChartImagePins(config, 'prometheus', { server: { retention: '7d' } }) as Record<string, Record<string, unknown>>;
    expect(monitoring['server']).toEqual({ retention: '7d', image: { repository: 'quay.io/prometheus/prometheus', tag: `v3.14.0@${config.chartImages.prometheus.digest}` } });
    // The node-exporter chart compares its tag as a semantic version: the tag stays bare and the chart appends the digest.
    expect(monitoring['prometheus-node-exporter']!['image']).toEqual({ registry: 'quay.io', repository: 'prometheus/node-exporter', tag: 'v1.12.1', digest: config.chartImages.nodeExporter.digest });
    // An image without a digest yet (Vector) keeps its tag alone, so the image-digest rule and the exception list still see it.
    const logging = withChartImagePins(config, 'victoriaLogs', {}) as { vector: { image: Record<string, string> } };
    expect(logging.vector.image).toEqual({ repository: 'docker.io/timberio/vector', tag: '0.56.0-distroless-libc' });
  });

  it('the system-upgrade-controller and its kubectl come from config image fields, and a controller tag without a vendored CRD fails the render', () => {
    const { config } = loadEnvironment(REPO_ROOT, 'dev');
    const controller = readRenderedInputs(REPO_ROOT)
      .filter((input) => input.env === 'dev')
      .flatMap((input) => parseRendered(input).docs)
      .find((doc) => doc.resource === 'Deployment system-upgrade/system-upgrade-controller')!;
    const container = (controller.object as { spec: { template: { spec: { containers: { image: string; env: { name: string; value?: string }[] }[] } } } }).spec.template.spec.containers[0]!;
    expect(container.image).toBe(`${config.systemUpgrade.controllerImage.repository}:${config.systemUpgrade.controllerImage.tag}`);
    expect(container.env.find((entry) => entry.name === 'SYSTEM_UPGRADE_JOB_KUBECTL_IMAGE')?.value).toBe(`${config.systemUpgrade.kubectlImage.repository}:${config.systemUpgrade.kubectlImage.tag}@${config.systemUpgrade.kubectlImage.digest}`);
    expect((planCrd(config.systemUpgrade.controllerImage.tag) as { kind: string }).kind).toBe('CustomResourceDefinition');
    expect(() => planCrd('v0.99.0')).toThrow(/vendor\/system-upgrade-controller\/v0\.99\.0\/upgrade\.cattle\.io_plans\.yaml: no vendored Plan CRD for system-upgrade-controller v0\.99\.0 \(systemUpgrade\.controllerImage\.tag\)\. Fix: vendor/);
  });

  it('every digest has its provenance recorded', () => {
    const provenance = readFileSync(join(REPO_ROOT, 'generator/images/provenance.md'), 'utf8');
    const digests = new Set(renderedImages().flatMap((use) => (/@(sha256:[a-f0-9]{64})$/.exec(use.image) ?? []).slice(1)));
    expect(digests.size).toBeGreaterThanOrEqual(7);
    for (const digest of digests) expect(provenance, digest).toContain(digest);
  });
});
