/** Finds the pod templates inside workload objects, and their containers. */
import type { ManifestDoc } from '../manifests.js';
import { asArray, get, isRecord, type Path } from './rule.js';

export interface PodTemplate {
  doc: ManifestDoc;
  /** Path of the pod spec inside the object. */
  specPath: Path;
  spec: Record<string, unknown>;
  labels: Record<string, string>;
  /** Desired replicas for Deployments/StatefulSets/ReplicaSets, else undefined. */
  replicas?: number;
}

export interface ContainerRef {
  pod: PodTemplate;
  path: Path;
  container: Record<string, unknown>;
  /** `containers`, `initContainers` or `ephemeralContainers`. */
  list: string;
}

const TEMPLATE_PATHS: Record<string, Path> = {
  Deployment: ['spec', 'template'],
  StatefulSet: ['spec', 'template'],
  DaemonSet: ['spec', 'template'],
  ReplicaSet: ['spec', 'template'],
  ReplicationController: ['spec', 'template'],
  Job: ['spec', 'template'],
  CronJob: ['spec', 'jobTemplate', 'spec', 'template'],
};

/** minReplicas of each HorizontalPodAutoscaler, by `namespace/Kind/name` of what it scales. */
function autoscaledMinimums(docs: ManifestDoc[]): Map<string, number> {
  const minimums = new Map<string, number>();
  for (const doc of docs) {
    if (doc.object.kind !== 'HorizontalPodAutoscaler') continue;
    const target = get(doc.object, ['spec', 'scaleTargetRef']);
    const min = get(doc.object, ['spec', 'minReplicas']);
    if (isRecord(target)) minimums.set(`${doc.object.metadata?.namespace ?? ''}/${String(target.kind)}/${String(target.name)}`, typeof min === 'number' ? min : 1);
  }
  return minimums;
}

export function podTemplates(docs: ManifestDoc[]): PodTemplate[] {
  const out: PodTemplate[] = [];
  const autoscaled = autoscaledMinimums(docs);
  for (const doc of docs) {
    const kind = String(doc.object.kind);
    if (kind === 'Pod') {
      const spec = get(doc.object, ['spec']);
      if (isRecord(spec)) out.push({ doc, specPath: ['spec'], spec, labels: doc.object.metadata?.labels ?? {} });
      continue;
    }
    const templatePath = TEMPLATE_PATHS[kind];
    if (!templatePath) continue;
    const spec = get(doc.object, [...templatePath, 'spec']);
    if (!isRecord(spec)) continue;
    const labels = get(doc.object, [...templatePath, 'metadata', 'labels']);
    // A workload an autoscaler scales leaves its count out; it runs at least the autoscaler's minimum.
    const scaledBy = autoscaled.get(`${doc.object.metadata?.namespace ?? ''}/${kind}/${doc.object.metadata?.name ?? ''}`);
    const replicas = kind === 'Deployment' || kind === 'StatefulSet' || kind === 'ReplicaSet' ? (get(doc.object, ['spec', 'replicas']) ?? scaledBy ?? 1) : undefined;
    out.push({
      doc,
      specPath: [...templatePath, 'spec'],
      spec,
      labels: isRecord(labels) ? (labels as Record<string, string>) : {},
      ...(typeof replicas === 'number' ? { replicas } : {}),
    });
  }
  return out;
}

export function containersOf(pod: PodTemplate, lists: readonly string[] = ['initContainers', 'containers', 'ephemeralContainers']): ContainerRef[] {
  const out: ContainerRef[] = [];
  for (const list of lists) {
    asArray(pod.spec[list]).forEach((container, index) => {
      if (isRecord(container)) out.push({ pod, path: [...pod.specPath, list, index], container, list });
    });
  }
  return out;
}
