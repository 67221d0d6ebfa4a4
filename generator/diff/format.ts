/**
 * Renders a RenderedDiff for a terminal or as the pull-request comment
 * (markdown with the full diff collapsed in <details>).
 */
import { noticeLines } from './bootstrap-notice.js';
import type { EnvironmentChange, FileChange, FolderChange, RenderedDiff, ResourceChange } from './compare.js';
import type { FieldChange } from './fields.js';

/** Marks the comment the workflow updates instead of adding a new one each push. */
export const COMMENT_MARKER = '<!-- dubai-hub:rendered-diff -->';

export interface FormatContext {
  /** The ref as the user named it (`origin/main`). */
  base: string;
  /** The commit it resolved to. */
  baseCommit: string;
}

interface Counts {
  added: number;
  changed: number;
  renamed: number;
  removed: number;
}

function countChanges(env: EnvironmentChange): Counts {
  const counts: Counts = { added: 0, changed: 0, renamed: 0, removed: 0 };
  const seen = new Set<ResourceChange>();
  for (const folder of env.folders) {
    for (const change of folder.changes) {
      if (seen.has(change)) continue;
      seen.add(change);
      if (change.change === 'moved' || change.change === 'renamed') counts.renamed++;
      else counts[change.change]++;
    }
  }
  return counts;
}

const folderName = (folder: FolderChange) => (folder.folder === '.' ? '(environment files)' : folder.folder);
const folderOfFile = (path: string | undefined) => (path === undefined ? undefined : path.includes('/') ? path.slice(0, path.indexOf('/')) : '.');

/** Value lines shown under one changed resource (the rest: `npm run diff -- --patch`). */
export const VALUE_LINES = 3;
/** A field changed the same way in at least this many resources of a folder is listed once for all of them. */
export const COMMON_FIELD_MIN = 3;
/** Most common-field lines, resource names in one list, and CRDs listed per environment. */
export const LIST_MAX = 10;
/** Custom-resource fields listed per changed CRD. */
export const SCHEMA_FIELDS = 4;

type Code = (value: string) => string;

/** One summary entry: its first line and the lines indented under it. */
interface Entry {
  mark: string;
  line: string;
  details: string[];
}

const plural = (count: number, word: string) => `${count} ${word}${count === 1 ? '' : 's'}`;
const bounded = (items: string[], max: number) => (items.length > max ? [...items.slice(0, max - 1), `${items.length - max + 1} more`] : items);

function valueLine(value: FieldChange, code: Code): string {
  if (value.before === undefined) return `${code(value.path)}: added ${code(value.after ?? '')}`;
  if (value.after === undefined) return `${code(value.path)}: removed (was ${code(value.before)})`;
  return `${code(value.path)}: ${code(value.before)} → ${code(value.after)}`;
}

const valueKey = (value: FieldChange) => JSON.stringify([value.path, value.before ?? null, value.after ?? null]);

/**
 * The entries of one folder: a resource moved or renamed into another folder
 * is described under its new folder (the old folder gets one line per target);
 * CRDs are left out (they have their own group); a field changed the same way
 * in many resources (a chart label, the app version) is listed once.
 */
function folderEntries(folder: FolderChange, code: Code): Entry[] {
  const entries: Entry[] = [];
  const movedOut = new Map<string, number>();
  const changed = folder.changes.filter((change) => change.change === 'changed' && change.crd === undefined);
  const uses = new Map<string, number>();
  for (const change of changed) for (const key of new Set((change.values ?? []).map(valueKey))) uses.set(key, (uses.get(key) ?? 0) + 1);
  const common = new Set([...uses].filter(([, count]) => count >= COMMON_FIELD_MIN).map(([key]) => key));
  const onlyCommon: string[] = [];
  for (const change of folder.changes) {
    if (change.crd !== undefined) continue;
    const from = folderOfFile(change.previousFile);
    const to = folderOfFile(change.file);
    if (from === folder.folder && to !== undefined && to !== folder.folder) {
      movedOut.set(to, (movedOut.get(to) ?? 0) + 1);
      continue;
    }
    if (change.change === 'changed' && common.size > 0) {
      const own = (change.values ?? []).filter((value) => !common.has(valueKey(value)));
      if (own.length === 0 && (change.values ?? []).length > 0) {
        onlyCommon.push(code(change.label));
        continue;
      }
      entries.push(describe({ ...change, fields: own.map((value) => value.path), values: own }, code, true));
      continue;
    }
    entries.push(describe(change, code));
  }
  if (common.size > 0) {
    const values = changed.flatMap((change) => change.values ?? []);
    const lines = [...common].map((key) => {
      const value = values.find((candidate) => valueKey(candidate) === key)!;
      return `${valueLine(value, code)} (${uses.get(key)} resources)`;
    });
    entries.unshift({ mark: '~', line: `changed the same way in several resources:`, details: bounded(lines, LIST_MAX) });
    if (onlyCommon.length > 0) entries.push({ mark: '~', line: `changed only in those fields: ${bounded(onlyCommon, LIST_MAX).join(', ')}`, details: [] });
  }
  for (const [to, count] of movedOut) entries.push({ mark: '>', line: `${plural(count, 'resource')} moved to ${code(to === '.' ? '(environment files)' : to)}`, details: [] });
  return entries;
}

function describe(change: ResourceChange, code: Code, alsoCommon = false): Entry {
  const edited = change.contentChanged ? ', content changed' : '';
  // A file that is its own resource (README.md) needs no "in README.md".
  const where = (preposition: string, file: string | undefined) => (file === undefined || file === change.label ? '' : ` ${preposition} ${code(file)}`);
  switch (change.change) {
    case 'added':
      return { mark: '+', line: `added ${code(change.label)}${where('in', change.file)}`, details: [] };
    case 'removed':
      return { mark: '-', line: `removed ${code(change.label)}${where('was in', change.previousFile)}`, details: [] };
    case 'changed': {
      const fields = change.fields ?? [];
      const shown = fields.length > 4 ? [...fields.slice(0, 3).map(code), `${fields.length - 3} more`] : fields.map(code);
      const values = change.values ?? [];
      const details = values.slice(0, VALUE_LINES).map((value) => valueLine(value, code));
      if (values.length > VALUE_LINES) details.push(`${plural(values.length - VALUE_LINES, 'more field')}: ${code('npm run diff -- --patch')}`);
      const list = [...shown, ...(alsoCommon ? ['the fields above'] : [])];
      return { mark: '~', line: `changed ${code(change.label)}${where('in', change.file)}${list.length > 0 ? `: ${list.join(', ')}` : ''}`, details };
    }
    case 'moved': {
      const otherApp = folderOfFile(change.previousFile) !== folderOfFile(change.file) ? ' (another Application: pruned from the old one, created by the new one)' : '';
      return { mark: '>', line: `moved ${code(change.label)} from ${code(change.previousFile!)} to ${code(change.file!)}${otherApp}${edited}`, details: [] };
    }
    case 'renamed': {
      const percent = Math.round((change.similarity ?? 1) * 100);
      return { mark: '>', line: `renamed ${code(change.previousLabel!)} → ${code(change.label)} (${percent}% similar; on the cluster: delete + create)${edited}`, details: [] };
    }
  }
}

const uniqueChanges = (env: EnvironmentChange) => [...new Set(env.folders.flatMap((folder) => folder.changes))];

/**
 * The CRD group of an environment: one line with counts and, per changed CRD,
 * its number of changed fields by area; under it the custom-resource fields
 * each schema change touches. Never the schema text.
 */
function crdEntry(env: EnvironmentChange, code: Code): Entry | undefined {
  const crds = uniqueChanges(env).filter((change) => change.crd !== undefined);
  if (crds.length === 0) return undefined;
  const count = (kind: string) => crds.filter((change) => (kind === 'moved' ? change.change === 'moved' || change.change === 'renamed' : change.change === kind)).length;
  const counts = ['added', 'changed', 'moved', 'removed'].filter((kind) => count(kind) > 0).map((kind) => `${count(kind)} ${kind === 'moved' ? 'moved or renamed' : kind}`);
  const items = crds.map((change) => {
    const name = code(change.crd!.name);
    if (change.change !== 'changed') return `${change.change === 'renamed' ? 'renamed' : change.change} ${name}`;
    const total = change.crd!.areas.reduce((sum, [, n]) => sum + n, 0);
    return `${name}: ${plural(total, 'field')} (${change.crd!.areas.map(([area]) => area).join(', ')})`;
  });
  const details = crds
    .filter((change) => change.crd!.schema.length > 0)
    .map((change) => {
      const byVersion = new Map<string, string[]>();
      for (const field of change.crd!.schema) {
        const text = field.change === 'changed' ? `${code(field.field)} (${field.keywords.join(', ')})` : `${field.change} ${code(field.field)}`;
        byVersion.set(field.version, [...(byVersion.get(field.version) ?? []), text]);
      }
      return `${code(change.crd!.name)} schema: ${[...byVersion].map(([version, fields]) => `${version}: ${bounded(fields, SCHEMA_FIELDS).join(', ')}`).join('; ')}`;
    });
  return { mark: '~', line: `CRDs: ${counts.join(', ')} — ${bounded(items, LIST_MAX).join(', ')}`, details: bounded(details, LIST_MAX) };
}

function chartLine(env: EnvironmentChange, code: Code): string | undefined {
  if (env.charts.length === 0) return undefined;
  const items = env.charts.map((change) => {
    const versions = (archives: typeof change.before) => archives.map((archive) => archive.version || archive.archive).join(' + ');
    const names = (archives: typeof change.before) => [...new Set(archives.map((archive) => archive.chart))].join(' + ');
    let what: string;
    if (change.before.length === 0) what = `${names(change.after)} ${versions(change.after)} (new)`;
    else if (change.after.length === 0) what = `${names(change.before)} ${versions(change.before)} (removed)`;
    else if (names(change.before) === names(change.after)) what = `${names(change.after)} ${versions(change.before)} → ${versions(change.after)}`;
    else what = `${change.before.map((archive) => archive.archive).join(' + ')} → ${change.after.map((archive) => archive.archive).join(' + ')}`;
    return `${code(change.folder)} ${what}`;
  });
  return `Charts: ${items.join(', ')}`;
}

/** Files changed in nothing but their generated header, counted per folder. */
function headerOnlyLine(env: EnvironmentChange, code: Code): string | undefined {
  const files = env.files.filter((file) => file.headerOnly);
  if (files.length === 0) return undefined;
  const perFolder = new Map<string, number>();
  for (const file of files) {
    const folder = folderOfFile(file.path.slice(env.env.length + 1))!;
    perFolder.set(folder, (perFolder.get(folder) ?? 0) + 1);
  }
  const where = [...perFolder].map(([folder, count]) => `${code(folder === '.' ? '(environment files)' : folder)} ${count}`).join(', ');
  return `${plural(files.length, 'file')} changed only in the generated header (${where}): no resource change`;
}

/** Modified files whose resources are all unchanged, other than header-only ones (formatting or comments). */
function textOnlyFiles(env: EnvironmentChange): FileChange[] {
  const resourceFiles = new Set(uniqueChanges(env).flatMap((change) => [change.file, change.previousFile]));
  return env.files.filter((file) => file.status === 'modified' && !file.headerOnly && !resourceFiles.has(file.path.slice(env.env.length + 1)));
}

function fileLine(file: FileChange): string {
  const what = file.status === 'renamed' ? `${file.previousPath} → ${file.path}` : file.path;
  return `${file.status} ${what} (+${file.additions} −${file.deletions})`;
}

/** Plain text for a terminal; with `patch`, followed by the unified diffs. */
export function formatText(diff: RenderedDiff, context: FormatContext, patch = false): string {
  const plain: Code = (value) => value;
  const lines = [`rendered/ in the working tree compared with ${context.base} (${context.baseCommit.slice(0, 12)}):`];
  if (diff.bootstrap.length > 0) {
    const { title, items } = noticeLines(diff.bootstrap, plain);
    lines.push(`!! ${title}`, ...items.flatMap((item) => item.map((line, index) => `!!   ${index === 0 ? '' : '  '}${line}`)), '');
  }
  if (diff.environments.length === 0) lines.push('  no difference in any environment');
  const entryLines = (entry: Entry, indent: string) => [`${indent}${entry.mark} ${entry.line}`, ...entry.details.map((detail) => `${indent}    ${detail}`)];
  for (const env of diff.environments) {
    const counts = countChanges(env);
    lines.push(`${env.env}: ${env.status} — ${counts.added} added, ${counts.changed} changed, ${counts.renamed} moved or renamed, ${counts.removed} removed`);
    const charts = chartLine(env, plain);
    if (charts) lines.push(`  ${charts}`);
    for (const folder of env.folders) {
      const entries = folderEntries(folder, plain);
      if (entries.length === 0) continue;
      lines.push(`  ${folderName(folder)} (${folder.status})`);
      for (const entry of entries) lines.push(...entryLines(entry, '    '));
    }
    const crds = crdEntry(env, plain);
    if (crds) lines.push(...entryLines(crds, '  '));
    const header = headerOnlyLine(env, plain);
    if (header) lines.push(`  ${header}`);
    for (const file of textOnlyFiles(env)) lines.push(`  ${file.path}: text changed, no resource changed (formatting or comments)`);
  }
  if (diff.unchanged.length > 0) lines.push(`unchanged: ${diff.unchanged.join(', ')}`);
  if (patch) for (const env of diff.environments) for (const file of env.files) lines.push('', file.patch.trimEnd());
  return lines.join('\n') + '\n';
}

function fence(content: string): string {
  const longest = Math.max(2, ...[...content.matchAll(/`+/g)].map((match) => match[0].length));
  const ticks = '`'.repeat(longest + 1);
  return `${ticks}diff\n${content.trimEnd()}\n${ticks}`;
}

/** Patches shown in the comment: not the header-only ones, not CRD schema text. */
const shownInComment = (file: FileChange) => !file.headerOnly && !file.crd;

function envPatch(env: EnvironmentChange, maxChars: number, rerun: string): string {
  const full = env.files.filter(shownInComment).map((file) => file.reviewPatch ?? file.patch).join('');
  if (full.length <= maxChars) return full;
  const lines = full.split('\n');
  const kept: string[] = [];
  let size = 0;
  for (const line of lines) {
    if (size + line.length + 1 > maxChars) break;
    kept.push(line);
    size += line.length + 1;
  }
  return `${kept.join('\n')}\n… ${lines.length - kept.length} more lines not shown: run \`${rerun}\` for the whole diff\n`;
}

export interface MarkdownOptions {
  /** Upper bound for the whole comment (GitHub refuses bodies above 65,536 characters). */
  maxChars?: number;
  /** Extra line under the title, such as the commit the comment describes. */
  subtitle?: string;
}

/** Files listed in one environment's collapsed section before the rest is counted. */
export const FILES_LISTED = 30;

/** Inline code that survives backticks in the value. */
function inlineCode(value: string): string {
  if (!value.includes('`')) return `\`${value}\``;
  const longest = Math.max(...[...value.matchAll(/`+/g)].map((match) => match[0].length));
  const ticks = '`'.repeat(longest + 1);
  return `${ticks} ${value} ${ticks}`;
}

/** The summary lines of one environment (without its title): charts, Applications, CRDs, header-only files. */
function environmentSummary(env: EnvironmentChange, code: Code): string[] {
  const lines: string[] = [];
  const charts = chartLine(env, code);
  if (charts) lines.push(charts, '');
  const entryLines = (entry: Entry) => [`- ${entry.line}`, ...entry.details.map((detail) => `  - ${detail}`)];
  for (const folder of env.folders) {
    const entries = folderEntries(folder, code);
    if (entries.length === 0) continue;
    lines.push(`**${code(folderName(folder))}** (${folder.status})`, '', ...entries.flatMap(entryLines), '');
  }
  const crds = crdEntry(env, code);
  if (crds) lines.push(...entryLines(crds), '');
  const header = headerOnlyLine(env, code);
  const textOnly = textOnlyFiles(env);
  if (header || textOnly.length > 0) {
    if (header) lines.push(`- ${header}`);
    lines.push(...bounded(textOnly.map((file) => `${code(file.path)}: text changed, no resource changed (formatting or comments)`), LIST_MAX).map((line) => `- ${line}`), '');
  }
  return lines;
}

/** Keeps whole lines up to `budget` characters and says how many were left out. */
function cut(lines: string[], budget: number, rerun: string): string[] {
  const kept: string[] = [];
  let size = 0;
  for (const line of lines) {
    if (size + line.length + 1 > budget) break;
    kept.push(line);
    size += line.length + 1;
  }
  if (kept.length === lines.length) return lines;
  return [...kept, '', `… ${lines.length - kept.length} more summary lines not shown: run \`${rerun}\` for all of them`, ''];
}

/** The pull-request comment: a table per environment, a list per Application folder, diffs collapsed. */
export function formatMarkdown(diff: RenderedDiff, context: FormatContext, options: MarkdownOptions = {}): string {
  const code = inlineCode;
  const base = context.baseCommit.slice(0, 12);
  const rerun = `npm run diff -- --base ${base}`;
  const rerunPatch = `${rerun} --patch`;
  const head: string[] = [COMMENT_MARKER, '### Rendered changes', ''];
  head.push(`\`rendered/\` compared with ${code(context.base)} (${code(base)}).${options.subtitle ? ` ${options.subtitle}` : ''}`, '');
  if (diff.bootstrap.length > 0) {
    const { title, items } = noticeLines(diff.bootstrap, code);
    head.push('> [!WARNING]', `> **${title}**`, ...items.flatMap((item) => [`> - ${item[0]}`, ...item.slice(1).map((line) => `>   - ${line}`)]), '');
  }
  if (diff.environments.length === 0) {
    head.push(`No difference in any environment (${diff.unchanged.join(', ') || 'none rendered'}).`);
    return head.join('\n') + '\n';
  }
  head.push('| environment | Applications | added | changed | moved / renamed | removed |', '| --- | --- | ---: | ---: | ---: | ---: |');
  for (const env of diff.environments) {
    const counts = countChanges(env);
    const apps = env.folders.map((folder) => `${code(folderName(folder))} (${folder.status})`).join(', ') || (env.charts.length > 0 ? 'chart header only' : 'text only');
    head.push(`| **${env.env}** (${env.status}) | ${apps} | ${counts.added} | ${counts.changed} | ${counts.renamed} | ${counts.removed} |`);
  }
  for (const env of diff.unchanged) head.push(`| ${env} | unchanged | 0 | 0 | 0 | 0 |`);

  // An environment whose summary reads exactly like an earlier one's (the same bump in every environment) points to it.
  const seen = new Map<string, string>();
  const sameAs = new Map<EnvironmentChange, string>();
  const summaries = diff.environments.map((env) => {
    const lines = environmentSummary(env, code);
    const key = lines.join('\n');
    const same = seen.get(key);
    if (same === undefined) seen.set(key, env.env);
    else sameAs.set(env, same);
    return same === undefined ? lines : [`Same changes as **${same}**.`, ''];
  });

  const details = diff.environments.map((env) => {
    const everything = `Full diff: ${code(`git diff ${base} -- rendered/${env.env}/`)}`;
    if (sameAs.has(env)) return [everything, ''];
    const additions = env.files.reduce((sum, file) => sum + file.additions, 0);
    const deletions = env.files.reduce((sum, file) => sum + file.deletions, 0);
    const lines = [`<details><summary>Full diff of ${env.env}: ${plural(env.files.length, 'file')}, +${additions} −${deletions}</summary>`, ''];
    const listed = env.files
      .filter((file) => !file.headerOnly)
      .map((file) => `${fileLine(file)}${file.crd ? `: CRD schema, not shown (${code(`git diff ${base} -- rendered/${file.path}`)})` : ''}`);
    lines.push(...bounded(listed, FILES_LISTED).map((line) => `- ${line}`));
    const headerOnly = env.files.filter((file) => file.headerOnly).length;
    if (headerOnly > 0) lines.push(`- ${plural(headerOnly, 'file')} with only the generated header changed, not shown`);
    lines.push('', everything, '');
    return lines;
  });

  const maxChars = options.maxChars ?? Number.POSITIVE_INFINITY;
  const title = (env: EnvironmentChange) => ['', `#### ${env.env}`, ''];
  const length = (lines: string[]) => lines.join('\n').length + 1;
  const fixed = length(head) + diff.environments.reduce((sum, env, index) => sum + length(title(env)) + length(summaries[index]!) + length(details[index]!) + length(['', '</details>']), 0);
  // Too long even without diffs (hundreds of changed resources): each environment's summary gets an equal share.
  const FENCE_ROOM = 300;
  const summaryShare = Math.floor((maxChars - length(head)) / diff.environments.length) - FENCE_ROOM;
  const tooLong = fixed + FENCE_ROOM * diff.environments.length > maxChars;
  // Each environment gets an equal share of what is left for diffs (fences and notes need ~300 characters).
  // Environments that read like an earlier one show no diff of their own.
  const withPatch = diff.environments.filter((env) => !sameAs.has(env)).length;
  const share = tooLong ? 0 : Math.max(0, Math.floor((maxChars - fixed) / withPatch) - FENCE_ROOM);
  const out = [...head];
  diff.environments.forEach((env, index) => {
    out.push(...title(env));
    if (tooLong) {
      // No room for the collapsed file list and diffs: the summary, cut to its share, and the command for the rest.
      out.push(...cut(summaries[index]!, summaryShare - 200, rerun), `Full diff: ${code(`git diff ${base} -- rendered/${env.env}/`)}`);
      return;
    }
    out.push(...summaries[index]!, ...details[index]!);
    if (sameAs.has(env)) return;
    const patch = envPatch(env, share, rerunPatch);
    if (patch.trim() !== '') out.push(fence(patch), '');
    out.push('</details>');
  });
  return out.join('\n') + '\n';
}
