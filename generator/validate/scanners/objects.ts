/** Names a scanner's finding the way every other gate does: the rendered document's `Kind namespace/name` and line. */
import type { ManifestDoc } from '../manifests.js';

export interface ObjectIndex {
  /** The document in `file` with this kind and name (and namespace, when the scanner gives one). */
  find(file: string, kind: string, name: string, namespace?: string): ManifestDoc | undefined;
}

export function objectIndex(docs: readonly ManifestDoc[]): ObjectIndex {
  const byFile = new Map<string, ManifestDoc[]>();
  for (const doc of docs) byFile.set(doc.file, [...(byFile.get(doc.file) ?? []), doc]);
  return {
    find: (file, kind, name, namespace) =>
      (byFile.get(file) ?? []).find((doc) => doc.object.kind === kind && doc.object.metadata?.name === name && (namespace === undefined || (doc.object.metadata?.namespace ?? 'default') === namespace)),
  };
}
