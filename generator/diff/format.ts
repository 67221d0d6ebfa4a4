/**
 * Renders a RenderedDiff for a terminal or as the pull-request comment
 * (markdown with the full diff collapsed in <details>).
 */
import { noticeLines } from './bootstrap-notice.js';
import type { EnvironmentChange, FileChange, FolderChange, RenderedDiff, ResourceChange } from './compare.js';

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

/**
 * The lines of one folder: a resource moved or renamed into another folder is
 * described under its new folder; the old folder gets one line per target.
 */
function folderLines(folder: FolderChange, code: (value: string) => string): string[] {
  const lines: string[] = [];
  const movedOut = new Map<string, number>();
  for (const change of folder.changes) {
    const from = folderOfFile(change.previousFile);
    const to = folderOfFile(change.file);
    if (from === folder.folder && to !== undefined && to !== folder.folder) {
      movedOut.set(to, (movedOut.get(to) ?? 0) + 1);
      continue;
    }
    lines.push(describe(change, code));
  }
  for (const [to, count] of movedOut) lines.push(`${count} resource${count === 1 ? '' : 's'} moved to ${code(to === '.' ? '(environment files)' : to)}`);
  return lines;
}

function describe(change: ResourceChange, code: (value: string) => string): string {
  const edited = change.contentChanged ? ', content changed' : '';
  // A file that is its own resource (README.md) needs no "in README.md".
  const where = (preposition: string, file: string | undefined) => (file === undefined || file === change.label ? '' : ` ${preposition} ${code(file)}`);
  switch (change.change) {
    case 'added':
      return `added ${code(change.label)}${where('in', change.file)}`;
    case 'removed':
      return `removed ${code(change.label)}${where('was in', change.previousFile)}`;
    case 'changed': {
      const fields = change.fields ?? [];
      const shown = fields.length > 4 ? [...fields.slice(0, 3).map(code), `${fields.length - 3} more`] : fields.map(code);
      return `changed ${code(change.label)}${where('in', change.file)}${shown.length > 0 ? `: ${shown.join(', ')}` : ''}`;
    }
    case 'moved': {
      const otherApp = folderOfFile(change.previousFile) !== folderOfFile(change.file) ? ' (another Application: pruned from the old one, created by the new one)' : '';
      return `moved ${code(change.label)} from ${code(change.previousFile!)} to ${code(change.file!)}${otherApp}${edited}`;
    }
    case 'renamed': {
      const percent = Math.round((change.similarity ?? 1) * 100);
      return `renamed ${code(change.previousLabel!)} → ${code(change.label)} (${percent}% similar; on the cluster: delete + create)${edited}`;
    }
  }
}

function fileLine(file: FileChange): string {
  const what = file.status === 'renamed' ? `${file.previousPath} → ${file.path}` : file.path;
  return `${file.status} ${what} (+${file.additions} −${file.deletions})`;
}

const TEXT_MARK: Record<ResourceChange['change'], string> = { added: '+', removed: '-', changed: '~', moved: '>', renamed: '>' };

/** Plain text for a terminal; with `patch`, followed by the unified diffs. */
export function formatText(diff: RenderedDiff, context: FormatContext, patch = false): string {
  const lines = [`rendered/ in the working tree compared with ${context.base} (${context.baseCommit.slice(0, 12)}):`];
  if (diff.bootstrap.length > 0) {
    const { title, items } = noticeLines(diff.bootstrap, (value) => value);
    lines.push(`!! ${title}`, ...items.flatMap((item) => item.map((line, index) => `!!   ${index === 0 ? '' : '  '}${line}`)), '');
  }
  if (diff.environments.length === 0) lines.push('  no difference in any environment');
  for (const env of diff.environments) {
    const counts = countChanges(env);
    lines.push(`${env.env}: ${env.status} — ${counts.added} added, ${counts.changed} changed, ${counts.renamed} moved or renamed, ${counts.removed} removed`);
    for (const folder of env.folders) {
      lines.push(`  ${folderName(folder)} (${folder.status})`);
      for (const line of folderLines(folder, (value) => value)) lines.push(`    ${TEXT_MARK[line.split(' ')[0] as ResourceChange['change']] ?? '>'} ${line}`);
    }
    const resourceFiles = new Set(env.folders.flatMap((folder) => folder.changes.flatMap((change) => [change.file, change.previousFile])));
    const formattingOnly = env.files.filter((file) => file.status === 'modified' && !resourceFiles.has(file.path.slice(env.env.length + 1)));
    for (const file of formattingOnly) lines.push(`  ${file.path}: text changed, no resource changed (formatting or comments)`);
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

function envPatch(env: EnvironmentChange, maxChars: number, rerun: string): string {
  const full = env.files.map((file) => file.patch).join('');
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

/** The pull-request comment: a table per environment, a list per Application folder, diffs collapsed. */
export function formatMarkdown(diff: RenderedDiff, context: FormatContext, options: MarkdownOptions = {}): string {
  const code = (value: string) => `\`${value}\``;
  const rerun = `npm run diff -- --base ${context.baseCommit.slice(0, 12)}`;
  const head: string[] = [COMMENT_MARKER, '### Rendered changes', ''];
  head.push(`\`rendered/\` compared with ${code(context.base)} (${code(context.baseCommit.slice(0, 12))}).${options.subtitle ? ` ${options.subtitle}` : ''}`, '');
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
    const apps = env.folders.map((folder) => `${code(folderName(folder))} (${folder.status})`).join(', ') || 'text only';
    head.push(`| **${env.env}** (${env.status}) | ${apps} | ${counts.added} | ${counts.changed} | ${counts.renamed} | ${counts.removed} |`);
  }
  for (const env of diff.unchanged) head.push(`| ${env} | unchanged | 0 | 0 | 0 | 0 |`);

  const sections = diff.environments.map((env) => {
    const lines = ['', `#### ${env.env}`, ''];
    for (const folder of env.folders) {
      lines.push(`**${code(folderName(folder))}** (${folder.status})`, '');
      for (const line of folderLines(folder, code)) lines.push(`- ${line}`);
      lines.push('');
    }
    const additions = env.files.reduce((sum, file) => sum + file.additions, 0);
    const deletions = env.files.reduce((sum, file) => sum + file.deletions, 0);
    lines.push(`<details><summary>Full diff of ${env.env}: ${env.files.length} file${env.files.length === 1 ? '' : 's'}, +${additions} −${deletions}</summary>`, '');
    lines.push(...env.files.map((file) => `- ${fileLine(file)}`), '');
    return { lines, env };
  });

  const fixed = [...head, ...sections.flatMap((section) => [...section.lines, '</details>'])].join('\n').length;
  const maxChars = options.maxChars ?? Number.POSITIVE_INFINITY;
  // Each environment gets an equal share of what is left for diffs (fences and notes need ~300 characters).
  const share = Math.max(0, Math.floor((maxChars - fixed) / diff.environments.length) - 300);
  const out = [...head];
  for (const section of sections) {
    out.push(...section.lines, fence(envPatch(section.env, share, rerun)), '', '</details>');
  }
  return out.join('\n') + '\n';
}
