/**
 * Maps a pinned K3s release to the Kubernetes API level its manifests are
 * validated against. Only minors whose schemas are vendored under schemas/ are
 * accepted, so an environment can never target an API level nothing checks.
 */

/** Kubernetes minors with vendored JSON schemas (schemas/kubernetes/v1.<minor>.0). */
export const SUPPORTED_KUBERNETES_MINORS = [34, 35, 36] as const;

export interface KubernetesVersion {
  major: 1;
  minor: number;
  /** `1.36` */
  short: string;
  /** Folder name of the vendored schemas: `v1.36.0`. */
  schemaVersion: string;
}

export function kubernetesVersionOf(k3sVersion: string): KubernetesVersion {
  const match = /^v1\.([0-9]+)\.[0-9]+\+k3s[0-9]+$/.exec(k3sVersion);
  if (!match) throw new Error(`not a K3s version: ${k3sVersion}`);
  const minor = Number(match[1]);
  return { major: 1, minor, short: `1.${minor}`, schemaVersion: `v1.${minor}.0` };
}

export function isSupportedMinor(minor: number): boolean {
  return (SUPPORTED_KUBERNETES_MINORS as readonly number[]).includes(minor);
}
