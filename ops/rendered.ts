/**
 * What the day-two verbs learn from `rendered/<env>/` rather than from a list
 * kept by hand: which Argo CD Application owns an object (the folder it is
 * in), which ExternalSecrets read a Secrets Manager name, which workloads read
 * a Secret or mount a claim.
 */
import { parseRendered, readRenderedInputs, type ManifestDoc } from '../generator/validate/manifests.js';

export interface RenderedObject {
  kind: string;
  namespace: string;
  name: string;
  /** The Argo CD Application that syncs it (its folder under rendered/<env>/). */
  application: string;
  file: string;
  object: any;
}

export function renderedObjects(root: string, env: string): RenderedObject[] {
  const { docs } = parseRendered(readRenderedInputs(root, [env])[0]!);
  return docs.map((doc: ManifestDoc) => ({
    kind: String(doc.object.kind),
    namespace: doc.object.metadata?.namespace ?? '',
    name: doc.object.metadata?.name ?? '',
    application: doc.file.split('/')[2]!,
    file: doc.file,
    object: doc.object,
  }));
}

export const WORKLOAD_KINDS = ['Deployment', 'StatefulSet'] as const;

/** The ExternalSecrets with a remoteRef.key equal to `secretsManagerName`. */
export function externalSecretsReading(objects: RenderedObject[], secretsManagerName: string): RenderedObject[] {
  return objects.filter((entry) => entry.kind === 'ExternalSecret' && ((entry.object.spec?.data ?? []) as { remoteRef?: { key?: string } }[]).some((item) => item.remoteRef?.key === secretsManagerName));
}

/** The Kubernetes Secret an ExternalSecret writes. */
export function targetSecret(externalSecret: RenderedObject): string {
  return externalSecret.object.spec?.target?.name ?? externalSecret.name;
}

function podSpec(workload: RenderedObject): any {
  return workload.object.spec?.template?.spec ?? {};
}

function containersOf(workload: RenderedObject): any[] {
  const spec = podSpec(workload);
  return [...(spec.initContainers ?? []), ...(spec.containers ?? [])];
}

/** Deployments and StatefulSets in `namespace` whose pods read the Secret (envFrom, env valueFrom, volumes). */
export function workloadsReadingSecret(objects: RenderedObject[], namespace: string, secret: string): RenderedObject[] {
  return objects.filter((entry) => {
    if (!(WORKLOAD_KINDS as readonly string[]).includes(entry.kind) || entry.namespace !== namespace) return false;
    const fromContainers = containersOf(entry).some(
      (container) =>
        (container.envFrom ?? []).some((source: any) => source.secretRef?.name === secret) ||
        (container.env ?? []).some((variable: any) => variable.valueFrom?.secretKeyRef?.name === secret),
    );
    const fromVolumes = (podSpec(entry).volumes ?? []).some((volume: any) => volume.secret?.secretName === secret || (volume.projected?.sources ?? []).some((source: any) => source.secret?.name === secret));
    return fromContainers || fromVolumes;
  });
}

/** Deployments and StatefulSets in `namespace` whose pods mount the claim. */
export function workloadsMountingClaim(objects: RenderedObject[], namespace: string, claim: string): RenderedObject[] {
  return objects.filter((entry) => (WORKLOAD_KINDS as readonly string[]).includes(entry.kind) && entry.namespace === namespace && (podSpec(entry).volumes ?? []).some((volume: any) => volume.persistentVolumeClaim?.claimName === claim));
}

/** The Application that syncs the apps folder (the app of apps): it would re-apply a child Application's sync policy. */
export function rootApplication(objects: RenderedObject[]): RenderedObject | undefined {
  return objects.find((entry) => entry.kind === 'Application' && entry.object.spec?.source?.path?.endsWith?.('/apps'));
}
