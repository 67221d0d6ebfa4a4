/**
 * Supply-chain rule: every image is pulled as `repository:tag@sha256:<digest>`,
 * so the same manifest always runs the same bytes (a tag can be re-pushed).
 * It covers the containers of every pod template, and the images a controller
 * is told to start (a `--<name>-image <ref>` argument or a `<NAME>_IMAGE`
 * environment variable: Longhorn's manager, the Tailscale operator's proxies).
 * The only images accepted without a digest are listed, each with its reason,
 * in generator/images/chart-images.ts (DIGEST_NOT_OBTAINABLE_OFFLINE).
 */
import { DIGEST_NOT_OBTAINABLE_OFFLINE } from '../../images/chart-images.js';
import { containersOf, podTemplates, type ContainerRef } from './pods.js';
import { asArray, isRecord, violation, type Path, type PolicyRule, type Violation } from './rule.js';

const DIGESTED = /^[a-z0-9][a-z0-9.-]*(?::[0-9]+)?(?:\/[a-z0-9._-]+)+:[A-Za-z0-9_][A-Za-z0-9_.+-]*@sha256:[a-f0-9]{64}$/;
/** Something that looks like an image reference: `host-or-org/name:tag`. */
const IMAGE_LIKE = /^[a-z0-9][a-z0-9.-]*(?::[0-9]+)?(?:\/[a-z0-9._-]+)+[:@][^\s]+$/;

interface ImageUse {
  ref: ContainerRef;
  path: Path;
  image: string;
  what: string;
}

/** The images one container runs or hands to what it starts. */
export function imageUses(ref: ContainerRef): ImageUse[] {
  const name = String(ref.container.name);
  const uses: ImageUse[] = [{ ref, path: [...ref.path, 'image'], image: String(ref.container.image ?? ''), what: `container "${name}"` }];
  for (const field of ['command', 'args']) {
    const words = asArray(ref.container[field]).map(String);
    words.forEach((word, index) => {
      const flag = /^--([a-z-]+-image)(?:=(.*))?$/.exec(word);
      if (!flag) return;
      const value = flag[2] ?? words[index + 1];
      const at = flag[2] !== undefined ? index : index + 1;
      if (value !== undefined && IMAGE_LIKE.test(value)) uses.push({ ref, path: [...ref.path, field, at], image: value, what: `container "${name}" ${field} --${flag[1]}` });
    });
  }
  asArray(ref.container.env).forEach((entry, index) => {
    if (isRecord(entry) && typeof entry.name === 'string' && /_IMAGE$/.test(entry.name) && typeof entry.value === 'string' && IMAGE_LIKE.test(entry.value)) {
      uses.push({ ref, path: [...ref.path, 'env', index, 'value'], image: entry.value, what: `container "${name}" env ${entry.name}` });
    }
  });
  return uses;
}

export function isDigestPinned(image: string): boolean {
  return DIGESTED.test(image);
}

export const IMAGE_RULES: PolicyRule[] = [
  {
    id: 'image-digest',
    reason: 'A tag can be pushed again; only a digest names the exact image that was reviewed.',
    mirrors: ['checkov CKV_K8S_43', 'kube-linter latest-tag (partly)'],
    check: (context) =>
      podTemplates(context.docs).flatMap((pod) =>
        containersOf(pod).flatMap((ref) =>
          imageUses(ref)
            .filter((use) => !isDigestPinned(use.image) && !(use.image in DIGEST_NOT_OBTAINABLE_OFFLINE))
            .map(
              (use): Violation =>
                violation(
                  pod.doc,
                  use.path,
                  `${use.what} uses image "${use.image}" without a digest; expected repository:tag@sha256:<digest>. Fix: set the image's digest field (environments/<env>.yaml or the image(...) default in generator/config/schema.ts; chart images: chartImages and generator/images/chart-images.ts), read from the registry or a public pin (record it in generator/images/provenance.md)`,
                ),
            ),
        ),
      ),
  },
];
