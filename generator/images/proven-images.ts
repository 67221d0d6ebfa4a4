/**
 * Images whose tag is proven to exist, each with the digest seen for it and
 * where it was seen. This machine reaches no registry, so "proven" means read
 * as the exact string `repository:tag@sha256:<digest>` in at least two
 * independent public repositories (or in the project's own release artefact);
 * the same facts are written up in generator/images/provenance.md.
 *
 * Why a list for kubectl at all: the upgrade Plans' Jobs cordon and drain with
 * `systemUpgrade.kubectlImage`, and the controller starts them only during an
 * upgrade, so a tag that was never published (rancher/kubectl:v1.36.3 was
 * reported answering 404) stays invisible until the first upgrade wedges with
 * a cordoned node in ImagePullBackOff. test/kubectl-image.test.ts refuses a
 * kubectl image that is not listed here with the same digest.
 *
 * When Renovate moves the image, the registry answer it read is the proof:
 * add the new tag and digest here, with the pull request as its source.
 */
import type { ImageConfig } from '../config/schema.js';

export interface ProvenImage {
  repository: string;
  tag: string;
  digest: string;
  /** Which digest it is: the multi-arch index (pins every platform) or one platform's manifest. */
  kind: 'index' | 'per-platform';
  /** Where the string was read: independent public files (the stored-index file ids) or the project's release artefact. */
  sources: readonly string[];
}

/** kubectl images the K3s upgrade Jobs may run. */
export const PROVEN_KUBECTL_IMAGES: readonly ProvenImage[] = [
  {
    // The Kubernetes project's own kubectl image (built from kubernetes/kubernetes build/server-image/kubectl,
    // ENTRYPOINT /bin/kubectl, so the controller's args-only drain and cordon containers work unchanged).
    repository: 'registry.k8s.io/kubectl',
    tag: 'v1.36.3',
    digest: 'sha256:6e4fce3c83651edb91b74bc67701c5cd263dd8aa3cd4254b1798d6425a5ab789',
    kind: 'index',
    sources: [
      'a multi-arch Dockerfile (COPY --from=registry.k8s.io/kubectl:v1.36.3@…, built per TARGETARCH), file id 58495301898',
      'a Flux tooling Dockerfile (FROM registry.k8s.io/kubectl:v1.36.3@… AS kubectl), file ids 67029215106 and 66430791252 (two versions of one file)',
      'an admission policy and its Python test that admit exactly this reference, file ids 58508601076 and 58510783674 (one project)',
    ],
  },
  {
    // Rancher's kubectl image, the family the controller defaults to (its v0.20.1 default is v1.30.3, outside the skew of 1.36).
    repository: 'docker.io/rancher/kubectl',
    tag: 'v1.36.2',
    digest: 'sha256:06c7a7a9772737494ae1e0c3af90f1b5385630c147e47c1c7cea92f4bed55fbe',
    kind: 'index',
    sources: [
      'a CI pipeline that runs rancher/kubectl:v1.36.2@… in full, file id 59169594567',
      'an upgrade runbook that records the Docker Hub index (amd64, arm64) as 06c7a7a9…5fbe, shortened but agreeing at both ends, file ids 66588762590 and 66868088072 (one project)',
    ],
  },
];

/** `repository:tag@digest` of a proven image. */
export function provenRef(image: ProvenImage): string {
  return `${image.repository}:${image.tag}@${image.digest}`;
}

/**
 * What is wrong with using this image where only proven images may run, or
 * undefined when it is one of them with the same digest.
 */
export function unprovenImageProblem(image: ImageConfig, proven: readonly ProvenImage[], field: string): string | undefined {
  const ref = `${image.repository}:${image.tag}${image.digest ? `@${image.digest}` : ''}`;
  const listed = proven.filter((entry) => entry.repository === image.repository && entry.tag === image.tag);
  const known = proven.map(provenRef).join(', ');
  if (listed.length === 0) {
    return `${field}: "${ref}" is not a tag proven to exist. Expected one of: ${known}. Fix: use one of those, or add the new tag with its digest and where it was read to generator/images/proven-images.ts and generator/images/provenance.md.`;
  }
  if (!listed.some((entry) => entry.digest === image.digest)) {
    return `${field}: "${ref}" has ${image.digest ? 'another digest than' : 'no digest, but'} the one proven for that tag (${listed.map((entry) => entry.digest).join(', ')}). Fix: set ${field}.digest to it, or record the new digest with its source in generator/images/proven-images.ts.`;
  }
  return undefined;
}
