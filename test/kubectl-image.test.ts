/**
 * The kubectl the K3s upgrade Jobs cordon and drain with is an image whose
 * tag is proven to exist, with the digest recorded for it: in every
 * environment, in the schema default, and in what the rendered controller is
 * told to start. A tag that was never published (rancher/kubectl:v1.36.3 was
 * reported answering 404) would only show during an upgrade, as a cordoned
 * node whose drain Job cannot pull its image.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { listEnvironments, loadEnvironment } from '../generator/config/load-environment.js';
import { PROVEN_KUBECTL_IMAGES, provenRef, unprovenImageProblem } from '../generator/images/proven-images.js';
import { parseRendered, readRenderedInputs } from '../generator/validate/manifests.js';
import { REPO_ROOT } from './helpers/validation.js';

const FIELD = 'systemUpgrade.kubectlImage';
const environments = listEnvironments(join(REPO_ROOT, 'environments'));

describe('the kubectl image of the K3s upgrade Jobs', () => {
  it('is a proven tag with its proven digest in every environment', () => {
    expect(environments.length).toBeGreaterThanOrEqual(3);
    for (const name of environments) {
      const { config } = loadEnvironment(REPO_ROOT, name);
      expect(unprovenImageProblem(config.systemUpgrade.kubectlImage, PROVEN_KUBECTL_IMAGES, FIELD), name).toBeUndefined();
    }
  });

  it('is the proven image the rendered controller hands its Jobs, in every rendered environment', () => {
    const proven = PROVEN_KUBECTL_IMAGES.map(provenRef);
    const values = readRenderedInputs(REPO_ROOT).flatMap((input) =>
      parseRendered(input)
        .docs.filter((doc) => doc.resource === 'Deployment system-upgrade/system-upgrade-controller')
        .map((doc) => {
          const containers = (doc.object as { spec: { template: { spec: { containers: { env?: { name: string; value?: string }[] }[] } } } }).spec.template.spec.containers;
          return { env: input.env, value: containers.flatMap((container) => container.env ?? []).find((entry) => entry.name === 'SYSTEM_UPGRADE_JOB_KUBECTL_IMAGE')?.value };
        }),
    );
    expect(values.map((entry) => entry.env).sort()).toEqual([...environments].sort());
    for (const { env, value } of values) expect(proven, `${env}: SYSTEM_UPGRADE_JOB_KUBECTL_IMAGE ${value}`).toContain(value);
  });

  it('refuses a tag not proven to exist, a proven tag with another digest, and one without a digest', () => {
    const unpublished = unprovenImageProblem({ repository: 'docker.io/rancher/kubectl', tag: 'v1.36.3' }, PROVEN_KUBECTL_IMAGES, FIELD);
    expect(unpublished).toContain('systemUpgrade.kubectlImage: "docker.io/rancher/kubectl:v1.36.3" is not a tag proven to exist');
    expect(unpublished).toContain(provenRef(PROVEN_KUBECTL_IMAGES[0]!));
    expect(unpublished).toContain('Fix: use one of those, or add the new tag');

    const [first] = PROVEN_KUBECTL_IMAGES;
    const otherDigest = unprovenImageProblem({ repository: first!.repository, tag: first!.tag, digest: `sha256:${'0'.repeat(64)}` }, PROVEN_KUBECTL_IMAGES, FIELD);
    expect(otherDigest).toContain('has another digest than the one proven for that tag');
    expect(otherDigest).toContain(first!.digest);

    const noDigest = unprovenImageProblem({ repository: first!.repository, tag: first!.tag }, PROVEN_KUBECTL_IMAGES, FIELD);
    expect(noDigest).toContain('has no digest, but the one proven for that tag');
  });

  it('lists each proven image with a digest, its kind and at least two sources, and records it in provenance.md', () => {
    const provenance = readFileSync(join(REPO_ROOT, 'generator/images/provenance.md'), 'utf8');
    expect(PROVEN_KUBECTL_IMAGES.length).toBeGreaterThan(0);
    for (const image of PROVEN_KUBECTL_IMAGES) {
      expect(image.digest, provenRef(image)).toMatch(/^sha256:[a-f0-9]{64}$/);
      expect(image.tag, provenRef(image)).toMatch(/^v1\.[0-9]+\.[0-9]+$/);
      expect(image.sources.length, provenRef(image)).toBeGreaterThanOrEqual(2);
      expect(provenance, provenRef(image)).toContain(`\`${image.repository}:${image.tag}\``);
      expect(provenance, provenRef(image)).toContain(image.digest);
    }
  });
});
