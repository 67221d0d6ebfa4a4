/**
 * Digest pins of the images the add-on charts render. Each pin is an image
 * config field (`chartImages.<key>` in the environment config, defaults in
 * generator/config/schema.ts, moved by Renovate) and the chart value it is
 * written to. The charts used here have no value that keeps the tag next to a
 * digest (the tailscale-operator chart's `image.digest` drops the tag), so
 * the route is the chart's tag value, which every one of them prints after
 * `repository:`: `tag: <tag>@sha256:<digest>`.
 *
 * A pin applies to the chart version it was read for; when an environment
 * moves the chart on, the pin stops applying and the image-digest policy rule
 * names the image until the pin is moved too (so a chart bump never runs an
 * old image silently).
 */
import type { EnvConfig, ImageConfig } from '../config/schema.js';

export interface ChartImagePin {
  /** Key in `chartImages` of the environment config. */
  image: keyof EnvConfig['chartImages'];
  /** Key in `addons` of the chart whose values carry it. */
  chart: keyof EnvConfig['addons'];
  /** Chart version whose default image tag the pin is for. */
  chartVersion: string;
  /** Where the chart reads the image: `<path>.repository` and `<path>.tag`. */
  valuesPath: readonly string[];
  /**
   * The chart keeps the registry host in its own `<path>.registry` value and
   * prints `registry/repository:tag`: the config's repository is split at its
   * first `/` into the two.
   */
  registryValue?: boolean;
  /**
   * The chart has a `<path>.digest` value that it prints after the tag
   * (`repository:tag@digest`) and reads the tag as a version elsewhere (the
   * node-exporter chart compares it as semver): the digest goes there.
   */
  digestValue?: boolean;
}

export const CHART_IMAGE_PINS: readonly ChartImagePin[] = [
  { image: 'argocd', chart: 'argocd', chartVersion: '9.5.2', valuesPath: ['global', 'image'] },
  { image: 'argocdRedis', chart: 'argocd', chartVersion: '9.5.2', valuesPath: ['redis', 'image'] },
  { image: 'externalSecrets', chart: 'externalSecrets', chartVersion: '2.5.0', valuesPath: ['image'] },
  { image: 'externalSecrets', chart: 'externalSecrets', chartVersion: '2.5.0', valuesPath: ['webhook', 'image'] },
  { image: 'externalSecrets', chart: 'externalSecrets', chartVersion: '2.5.0', valuesPath: ['certController', 'image'] },
  { image: 'tailscaleProxy', chart: 'tailscaleOperator', chartVersion: '1.102.2', valuesPath: ['proxyConfig', 'image'] },
  { image: 'prometheus', chart: 'prometheus', chartVersion: '29.27.0', valuesPath: ['server', 'image'] },
  { image: 'prometheusConfigReloader', chart: 'prometheus', chartVersion: '29.27.0', valuesPath: ['configmapReload', 'prometheus', 'image'] },
  { image: 'alertmanager', chart: 'prometheus', chartVersion: '29.27.0', valuesPath: ['alertmanager', 'image'] },
  { image: 'kubeStateMetrics', chart: 'prometheus', chartVersion: '29.27.0', valuesPath: ['kube-state-metrics', 'image'], registryValue: true },
  { image: 'nodeExporter', chart: 'prometheus', chartVersion: '29.27.0', valuesPath: ['prometheus-node-exporter', 'image'], registryValue: true, digestValue: true },
  { image: 'grafana', chart: 'grafana', chartVersion: '12.11.1', valuesPath: ['image'], registryValue: true },
  { image: 'victoriaLogs', chart: 'victoriaLogs', chartVersion: '0.13.9', valuesPath: ['server', 'image'] },
  { image: 'vector', chart: 'victoriaLogs', chartVersion: '0.13.9', valuesPath: ['vector', 'image'] },
];

/**
 * Images the pinned charts render whose digest could not be read on this
 * machine (it reaches no container registry, and no public repository showed
 * the `repository:tag@sha256:` of these tags). The image-digest rule accepts
 * exactly these repositories at exactly this tag; anything else without a
 * digest is a finding. Renovate's digest pinning (renovate.json, pinDigests)
 * is the way to fill them in: give the image a `chartImages` field and a pin.
 */
export const DIGEST_NOT_OBTAINABLE_OFFLINE: Readonly<Record<string, string>> = {
  'ghcr.io/berriai/litellm-non_root:v1.85.1': 'digest not obtainable offline (LiteLLM, environment config; one public source only, below the two-source bar: provenance.md)',
  'tailscale/k8s-operator:v1.102.2': 'digest not obtainable offline (tailscale-operator chart 1.102.2; the tag occurs in no public file, with or without a digest)',
  'docker.io/longhornio/longhorn-manager:v1.12.0': 'digest not obtainable offline (longhorn chart 1.12.0)',
  'docker.io/longhornio/longhorn-ui:v1.12.0': 'digest not obtainable offline (longhorn chart 1.12.0)',
  'docker.io/longhornio/longhorn-share-manager:v1.12.0': 'digest not obtainable offline (longhorn chart 1.12.0)',
  'docker.io/longhornio/csi-attacher:v4.12.0': 'digest not obtainable offline (longhorn chart 1.12.0; Longhorn rebuilds of the CSI sidecars)',
  'docker.io/longhornio/csi-node-driver-registrar:v2.17.0': 'digest not obtainable offline (longhorn chart 1.12.0; Longhorn rebuilds of the CSI sidecars)',
  'docker.io/longhornio/csi-provisioner:v5.3.0-20260514': 'digest not obtainable offline (longhorn chart 1.12.0; Longhorn rebuilds of the CSI sidecars)',
  'docker.io/longhornio/csi-resizer:v2.1.0-20260514': 'digest not obtainable offline (longhorn chart 1.12.0; Longhorn rebuilds of the CSI sidecars)',
  'docker.io/longhornio/csi-snapshotter:v8.5.0-20260514': 'digest not obtainable offline (longhorn chart 1.12.0; Longhorn rebuilds of the CSI sidecars)',
  'docker.io/longhornio/livenessprobe:v2.19.0': 'digest not obtainable offline (longhorn chart 1.12.0; Longhorn rebuilds of the CSI sidecars)',
  'docker.io/longhornio/longhorn-engine:v1.12.0': 'digest not obtainable offline (longhorn chart 1.12.0; started by longhorn-manager)',
  'docker.io/longhornio/longhorn-instance-manager:v1.12.0': 'digest not obtainable offline (longhorn chart 1.12.0; started by longhorn-manager)',
  'docker.io/longhornio/backing-image-manager:v1.12.0': 'digest not obtainable offline (longhorn chart 1.12.0; started by longhorn-manager)',
  'docker.io/longhornio/support-bundle-kit:v0.0.86': 'digest not obtainable offline (longhorn chart 1.12.0; started by longhorn-manager)',
  'docker.io/timberio/vector:0.56.0-distroless-libc': 'digest not obtainable offline (victoria-logs-single chart 0.13.9, chartImages.vector; only other 0.56.0 variants have public digests)',
  'docker.io/rancher/system-upgrade-controller:v0.20.1': 'digest not obtainable offline (systemUpgrade.controllerImage; only a shortened index digest is public)',
};

function setIn(values: Record<string, unknown>, path: readonly string[], leaf: Record<string, unknown>): Record<string, unknown> {
  const [head, ...rest] = path;
  if (head === undefined) return { ...values, ...leaf };
  const inner = values[head];
  const child = inner !== null && typeof inner === 'object' && !Array.isArray(inner) ? (inner as Record<string, unknown>) : {};
  return { ...values, [head]: setIn(child, rest, leaf) };
}

/** `tag@digest` when the image has a digest, else the tag. */
export function pinnedTag(image: ImageConfig): string {
  return image.digest ? `${image.tag}@${image.digest}` : image.tag;
}

/** The chart's values with the digest pins of its images written in (for the chart version they were read for). */
export function withChartImagePins(config: EnvConfig, chart: keyof EnvConfig['addons'], values: Record<string, unknown>): Record<string, unknown> {
  return CHART_IMAGE_PINS.filter((pin) => pin.chart === chart && pin.chartVersion === config.addons[chart].version).reduce((merged, pin) => {
    const image = config.chartImages[pin.image];
    const tag = pin.digestValue ? { tag: image.tag, ...(image.digest ? { digest: image.digest } : {}) } : { tag: pinnedTag(image) };
    const slash = image.repository.indexOf('/');
    const repository = pin.registryValue ? { registry: image.repository.slice(0, slash), repository: image.repository.slice(slash + 1) } : { repository: image.repository };
    return setIn(merged, pin.valuesPath, { ...repository, ...tag });
  }, values);
}
