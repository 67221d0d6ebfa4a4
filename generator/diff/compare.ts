/**
 * Compares two rendered/ trees (a git ref and the working tree) per
 * environment, per Application folder and per resource: added, changed,
 * removed, moved (same identity, other file) and renamed (same kind and
 * scope, mostly the same content, other name), plus a unified diff per file.
 */
import { diffLines, structuredPatch } from 'diff';
import type { Tree } from '../write-rendered.js';
import { bootstrapNotice, type BootstrapNotice } from './bootstrap-notice.js';
import { chartVersionChanges, headerLength, headerOnlyChange, type ChartVersionChange } from './chart-headers.js';
import { crdArea, diffValues, schemaFieldChanges, type FieldChange, type SchemaFieldChange } from './fields.js';
import { resourcesOf, type Resource } from './resources.js';

export type ResourceChangeKind = 'added' | 'removed' | 'changed' | 'moved' | 'renamed';

export interface ResourceChange {
  change: ResourceChangeKind;
  /** The resource as it is now (as it was, for a removed one). */
  label: string;
  /** The resource's previous label, for a rename. */
  previousLabel?: string;
  /** File (relative to rendered/<env>/) it is in now; absent when removed. */
  file?: string;
  /** File it was in before; absent when added. */
  previousFile?: string;
  /** For moved and renamed resources: whether the content changed as well. */
  contentChanged: boolean;
  /** For renames: share of lines both versions have (0..1). */
  similarity?: number;
  /** For changed resources: the fields that differ (`spec.replicas`, `metadata.labels.app.kubernetes.io/version`). */
  fields?: string[];
  /** For changed resources: the same fields with short renderings of their old and new values. */
  values?: FieldChange[];
  /** Set when the resource is a CustomResourceDefinition: reviews group these apart. */
  crd?: CrdChange;
}

export interface CrdChange {
  /** `applicationsets.argoproj.io` */
  name: string;
  /** For a changed CRD: number of changed fields per area (`schema`, `metadata`, `spec.names`), in order of appearance. */
  areas: [area: string, count: number][];
  /** For a changed CRD: the custom-resource fields its schema change touches. */
  schema: SchemaFieldChange[];
}

export type PresenceChange = 'added' | 'removed' | 'changed';

export interface FolderChange {
  /** Application folder under rendered/<env>/, or '.' for files directly in it. */
  folder: string;
  status: PresenceChange;
  changes: ResourceChange[];
}

export interface FileChange {
  status: 'added' | 'removed' | 'modified' | 'renamed';
  /** Path relative to rendered/ now (before, when removed). */
  path: string;
  previousPath?: string;
  additions: number;
  deletions: number;
  /** Unified diff with `a/` and `b/` prefixes, paths relative to the repository. */
  patch: string;
  /** The patch without the generated header's lines, when the header and the body both changed (for the comment). */
  reviewPatch?: string;
  /** Modified in nothing but its leading comment lines (the generated header naming the chart archive). */
  headerOnly?: boolean;
  /** The file holds a CustomResourceDefinition (its diff is schema text: summarised, not shown in the comment). */
  crd?: boolean;
}

export interface EnvironmentChange {
  env: string;
  status: PresenceChange;
  folders: FolderChange[];
  files: FileChange[];
  /** Application folders whose chart archive (read from the file headers) changed. */
  charts: ChartVersionChange[];
}

export interface RenderedDiff {
  environments: EnvironmentChange[];
  /** Environments present on both sides with no difference at all. */
  unchanged: string[];
  /** Environments whose AWS stack changes: `npm run bootstrap` is needed. */
  bootstrap: BootstrapNotice[];
}

/** Minimum share of common lines for a removed and an added resource to count as one renamed. */
export const RENAME_SIMILARITY = 0.5;

const folderOf = (path: string) => (path.includes('/') ? path.slice(0, path.indexOf('/')) : '.');

interface Located {
  resource: Resource;
  file: string;
}

function locate(tree: Tree): Map<string, Located> {
  const out = new Map<string, Located>();
  for (const [file, content] of [...tree].sort(([a], [b]) => a.localeCompare(b))) {
    for (const resource of resourcesOf(file, content)) {
      if (!out.has(resource.key)) out.set(resource.key, { resource, file });
    }
  }
  return out;
}

function lineCount(value: string): number {
  if (value === '') return 0;
  return value.split('\n').length - (value.endsWith('\n') ? 1 : 0);
}

/** Share of lines the two texts have in common (Dice coefficient over a line diff). */
export function similarity(a: string, b: string): number {
  const total = lineCount(a) + lineCount(b);
  if (total === 0) return 1;
  const common = diffLines(a, b)
    .filter((part) => !part.added && !part.removed)
    .reduce((sum, part) => sum + (part.count ?? lineCount(part.value)), 0);
  return (2 * common) / total;
}

const CRD_KIND = 'apiextensions.k8s.io/CustomResourceDefinition';
const CRD_FILE = /^kind: CustomResourceDefinition$/m;

const crdName = (resource: Resource) => resource.label.slice(resource.label.indexOf(' ') + 1);

/** The fields of a changed resource and, for a CRD, what its schema change means for custom resources. */
function describeChange(old: Resource, now: Resource): Pick<ResourceChange, 'fields' | 'values' | 'crd'> {
  if (now.kind === 'File') return {};
  let a: { spec?: { versions?: { name?: unknown }[] } };
  let b: typeof a;
  try {
    a = JSON.parse(old.content) as typeof a;
    b = JSON.parse(now.content) as typeof a;
  } catch {
    return {};
  }
  const values = diffValues(a, b);
  const out: Pick<ResourceChange, 'fields' | 'values' | 'crd'> = values.length > 0 ? { fields: values.map((value) => value.path), values } : {};
  if (now.kind === CRD_KIND) {
    const areas = new Map<string, number>();
    for (const value of values) areas.set(crdArea(value.segments), (areas.get(crdArea(value.segments)) ?? 0) + 1);
    const versionName = (index: number) => String(b.spec?.versions?.[index]?.name ?? a.spec?.versions?.[index]?.name ?? `versions[${index}]`);
    out.crd = { name: crdName(now), areas: [...areas], schema: schemaFieldChanges(values, versionName) };
  }
  return out;
}

function pairRenames(removed: Located[], added: Located[]): { before: Located; after: Located; similarity: number }[] {
  const candidates: { before: Located; after: Located; similarity: number }[] = [];
  for (const before of removed) {
    for (const after of added) {
      if (before.resource.kind !== after.resource.kind || before.resource.scope !== after.resource.scope) continue;
      // A CRD of another name is another API: removing one deletes its custom resources, so it is never a rename.
      if (before.resource.kind === CRD_KIND) continue;
      const score = similarity(before.resource.content, after.resource.content);
      if (score >= RENAME_SIMILARITY) candidates.push({ before, after, similarity: score });
    }
  }
  candidates.sort((x, y) => y.similarity - x.similarity || x.before.resource.key.localeCompare(y.before.resource.key));
  const used = new Set<Located>();
  const pairs: typeof candidates = [];
  for (const candidate of candidates) {
    if (used.has(candidate.before) || used.has(candidate.after)) continue;
    used.add(candidate.before);
    used.add(candidate.after);
    pairs.push(candidate);
  }
  return pairs;
}

/**
 * The files that can hold a change: a file with the same text on both sides
 * holds the same resources in the same place, so it is not parsed at all (a
 * chart bump in one environment leaves every other file of the tree alone).
 */
function differing(tree: Tree, other: Tree): Tree {
  return new Map([...tree].filter(([path, content]) => other.get(path) !== content));
}

function resourceChanges(base: Tree, head: Tree): ResourceChange[] {
  const before = locate(differing(base, head));
  const after = locate(differing(head, base));
  const changes: ResourceChange[] = [];
  const removed: Located[] = [];
  const added: Located[] = [];
  for (const [key, old] of before) {
    const now = after.get(key);
    if (!now) {
      removed.push(old);
      continue;
    }
    const contentChanged = old.resource.content !== now.resource.content;
    if (old.file !== now.file) {
      changes.push({ change: 'moved', label: now.resource.label, file: now.file, previousFile: old.file, contentChanged });
    } else if (contentChanged) {
      changes.push({ change: 'changed', label: now.resource.label, file: now.file, previousFile: old.file, contentChanged, ...describeChange(old.resource, now.resource) });
    }
  }
  for (const [key, now] of after) if (!before.has(key)) added.push(now);

  const pairs = pairRenames(removed, added);
  const paired = new Set<Located>(pairs.flatMap((pair) => [pair.before, pair.after]));
  for (const pair of pairs) {
    changes.push({
      change: 'renamed',
      label: pair.after.resource.label,
      previousLabel: pair.before.resource.label,
      file: pair.after.file,
      previousFile: pair.before.file,
      contentChanged: pair.before.resource.content !== pair.after.resource.content,
      similarity: pair.similarity,
    });
  }
  const crd = (resource: Resource) => (resource.kind === CRD_KIND ? { crd: { name: crdName(resource), areas: [], schema: [] } } : {});
  for (const old of removed) if (!paired.has(old)) changes.push({ change: 'removed', label: old.resource.label, previousFile: old.file, contentChanged: true, ...crd(old.resource) });
  for (const now of added) if (!paired.has(now)) changes.push({ change: 'added', label: now.resource.label, file: now.file, contentChanged: true, ...crd(now.resource) });
  return changes;
}

interface Hunks {
  lines: string[];
  additions: number;
  deletions: number;
  count: number;
}

/** The hunks of a line diff, their line numbers shifted by lines left out in front (a header). */
function hunksOf(oldText: string, newText: string, oldOffset = 0, newOffset = 0): Hunks {
  const structured = structuredPatch('a', 'b', oldText, newText, undefined, undefined, { context: 3 });
  const out: Hunks = { lines: [], additions: 0, deletions: 0, count: structured.hunks.length };
  for (const hunk of structured.hunks) {
    out.lines.push(`@@ -${hunk.oldStart + oldOffset},${hunk.oldLines} +${hunk.newStart + newOffset},${hunk.newLines} @@`);
    for (const line of hunk.lines) {
      if (line.startsWith('+')) out.additions++;
      else if (line.startsWith('-')) out.deletions++;
      out.lines.push(line);
    }
  }
  return out;
}

function patchOf(env: string, oldPath: string | undefined, newPath: string | undefined, oldText: string, newText: string): Omit<FileChange, 'status' | 'path' | 'previousPath'> {
  const from = oldPath === undefined ? '/dev/null' : `a/rendered/${env}/${oldPath}`;
  const to = newPath === undefined ? '/dev/null' : `b/rendered/${env}/${newPath}`;
  const hunks = hunksOf(oldText, newText);
  const lines = [`--- ${from}`, `+++ ${to}`, ...hunks.lines];
  if (oldPath !== undefined && newPath !== undefined && oldPath !== newPath && hunks.count === 0) {
    lines.push(`(renamed without changes)`);
  }
  return { additions: hunks.additions, deletions: hunks.deletions, patch: lines.join('\n') + '\n' };
}

/**
 * For a file whose generated header and body both changed (a chart bump that
 * also changes the resource): the diff of the body alone, with the file's
 * line numbers, so the comment does not spend its room on header lines.
 */
function reviewPatchOf(env: string, path: string, oldText: string, newText: string): string | undefined {
  const oldHeader = headerLength(oldText);
  const newHeader = headerLength(newText);
  if (oldHeader === 0 || newHeader === 0 || oldText.slice(0, oldHeader) === newText.slice(0, newHeader)) return undefined;
  const count = (text: string) => text.split('\n').length - 1;
  const hunks = hunksOf(oldText.slice(oldHeader), newText.slice(newHeader), count(oldText.slice(0, oldHeader)), count(newText.slice(0, newHeader)));
  if (hunks.count === 0) return undefined;
  return [`--- a/rendered/${env}/${path}`, `+++ b/rendered/${env}/${path}`, '(generated header changed, not shown)', ...hunks.lines].join('\n') + '\n';
}

function fileChanges(env: string, base: Tree, head: Tree, resources: ResourceChange[]): FileChange[] {
  const removed = [...base.keys()].filter((path) => !head.has(path)).sort();
  const added = new Set([...head.keys()].filter((path) => !base.has(path)));
  const renamedTo = new Map<string, string>();
  for (const path of removed) {
    // Same content elsewhere, or its only resource moved or renamed into a new file.
    const exact = [...added].find((candidate) => head.get(candidate) === base.get(path));
    const viaResource = resources.find(
      (change) =>
        (change.change === 'moved' || change.change === 'renamed') &&
        change.previousFile === path &&
        change.file !== undefined &&
        added.has(change.file) &&
        resourcesOf(path, base.get(path)!).length === 1 &&
        resourcesOf(change.file, head.get(change.file)!).length === 1,
    )?.file;
    const target = exact ?? viaResource;
    if (target) {
      renamedTo.set(path, target);
      added.delete(target);
    }
  }
  const files: FileChange[] = [];
  const envPath = (path: string) => `${env}/${path}`;
  const flags = (before: string, after: string) => ({
    ...(headerOnlyChange(before, after) ? { headerOnly: true } : {}),
    ...(CRD_FILE.test(before) || CRD_FILE.test(after) ? { crd: true } : {}),
  });
  for (const [path, content] of base) {
    const now = head.get(path);
    if (now === undefined || now === content) continue;
    const flagged = flags(content, now);
    const review = flagged.headerOnly || flagged.crd ? undefined : reviewPatchOf(env, path, content, now);
    files.push({ status: 'modified', path: envPath(path), ...patchOf(env, path, path, content, now), ...flagged, ...(review ? { reviewPatch: review } : {}) });
  }
  for (const path of removed) {
    const target = renamedTo.get(path);
    if (target) files.push({ status: 'renamed', path: envPath(target), previousPath: envPath(path), ...patchOf(env, path, target, base.get(path)!, head.get(target)!), ...(flags(base.get(path)!, head.get(target)!).crd ? { crd: true } : {}) });
    else files.push({ status: 'removed', path: envPath(path), ...patchOf(env, path, undefined, base.get(path)!, ''), ...flags(base.get(path)!, '') });
  }
  for (const path of added) files.push({ status: 'added', path: envPath(path), ...patchOf(env, undefined, path, '', head.get(path)!), ...flags('', head.get(path)!) });
  return files.sort((a, b) => a.path.localeCompare(b.path));
}

function folderChanges(base: Tree, head: Tree, changes: ResourceChange[]): FolderChange[] {
  const folders = new Map<string, ResourceChange[]>();
  const add = (folder: string, change: ResourceChange) => {
    const list = folders.get(folder) ?? [];
    if (!list.includes(change)) list.push(change);
    folders.set(folder, list);
  };
  for (const change of changes) {
    if (change.file !== undefined) add(folderOf(change.file), change);
    if (change.previousFile !== undefined) add(folderOf(change.previousFile), change);
  }
  const present = (tree: Tree, folder: string) => [...tree.keys()].some((path) => folderOf(path) === folder);
  const order: Record<ResourceChangeKind, number> = { added: 0, changed: 1, moved: 2, renamed: 3, removed: 4 };
  return [...folders]
    .map(([folder, list]) => ({
      folder,
      status: (!present(base, folder) ? 'added' : !present(head, folder) ? 'removed' : 'changed') as PresenceChange,
      changes: list.sort((a, b) => order[a.change] - order[b.change] || a.label.localeCompare(b.label)),
    }))
    .sort((a, b) => (a.folder === '.' ? -1 : b.folder === '.' ? 1 : a.folder.localeCompare(b.folder)));
}

/** Splits a rendered/ tree (paths `<env>/<folder>/<file>`) into one tree per environment. */
export function byEnvironment(tree: Tree): Map<string, Tree> {
  const out = new Map<string, Tree>();
  for (const [path, content] of tree) {
    const slash = path.indexOf('/');
    if (slash < 0 || path.startsWith('.')) continue; // files directly in rendered/ and temporary render folders
    const env = path.slice(0, slash);
    const envTree = out.get(env) ?? new Map<string, string>();
    envTree.set(path.slice(slash + 1), content);
    out.set(env, envTree);
  }
  return out;
}

/** Compares two rendered/ trees keyed `<env>/<path>`. */
export function compareRendered(base: Tree, head: Tree): RenderedDiff {
  const baseEnvs = byEnvironment(base);
  const headEnvs = byEnvironment(head);
  const names = [...new Set([...baseEnvs.keys(), ...headEnvs.keys()])].sort();
  const environments: EnvironmentChange[] = [];
  const unchanged: string[] = [];
  const bootstrap: BootstrapNotice[] = [];
  for (const env of names) {
    const before = baseEnvs.get(env) ?? new Map<string, string>();
    const after = headEnvs.get(env) ?? new Map<string, string>();
    const resources = resourceChanges(before, after);
    const files = fileChanges(env, before, after, resources);
    const notice = bootstrapNotice(env, before, after);
    if (notice) bootstrap.push(notice);
    if (files.length === 0) {
      unchanged.push(env);
      continue;
    }
    const status: PresenceChange = !baseEnvs.has(env) ? 'added' : !headEnvs.has(env) ? 'removed' : 'changed';
    environments.push({ env, status, folders: folderChanges(before, after, resources), files, charts: chartVersionChanges(before, after) });
  }
  return { environments, unchanged, bootstrap };
}
