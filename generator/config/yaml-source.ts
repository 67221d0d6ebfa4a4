/**
 * Parses a YAML file while keeping positions, so that every later problem
 * (schema or semantic) can be reported at its line and column.
 */
import { readFileSync } from 'node:fs';
import { isMap, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import { ConfigError, type ConfigIssue } from './errors.js';

export interface YamlSource {
  file: string;
  data: unknown;
  /** Line and column of the value at a path, or of its closest existing parent. */
  locate(path: readonly (string | number)[], key?: boolean): { line: number; column: number } | undefined;
  /** The value at a path exactly as written in the file (`012345678901`, not the number it parses to). */
  sourceText(path: readonly (string | number)[]): string | undefined;
}

/** Where a syntax error really is: the first character after the indentation, or the bracket never closed. */
function errorOffset(text: string, error: { code: string; message: string; pos: [number, number] }): { offset: number; problem?: string } {
  const [start] = error.pos;
  if (/^Flow (sequence|mapping)/.test(error.message)) {
    const open = Math.max(text.lastIndexOf('[', start), text.lastIndexOf('{', start));
    if (open >= 0) return { offset: open, problem: `a "${text[open]}" is opened here and never closed` };
  }
  let offset = start;
  while (text[offset] === ' ' || text[offset] === '\t') offset++;
  if (error.code === 'BAD_INDENT' && /same column/.test(error.message)) {
    const key = /^[^:\s]+/.exec(text.slice(offset))?.[0] ?? 'this key';
    return { offset, problem: `"${key}" is mis-indented: the keys of one mapping must start at the same column` };
  }
  return { offset };
}

export function readYamlFile(absolutePath: string, displayPath: string): YamlSource {
  let text: string;
  try {
    text = readFileSync(absolutePath, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ConfigError([
      {
        file: displayPath,
        path: '',
        problem: code === 'ENOENT' ? 'the file does not exist' : `the file cannot be read (${code ?? String(error)})`,
        expected: 'a YAML file',
        fix: code === 'ENOENT' ? `create ${displayPath}; a new environment is scaffolded with \`npm run env:new -- --name <name> --from dev --account <id>\`` : 'check the file permissions',
      },
    ]);
  }
  return parseYaml(text, displayPath);
}

export function parseYaml(text: string, displayPath: string): YamlSource {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false, strict: true });
  if (doc.errors.length > 0) {
    const issues: ConfigIssue[] = doc.errors.map((error) => {
      const { offset, problem } = errorOffset(text, error);
      const position = lineCounter.linePos(offset);
      return {
        file: displayPath,
        path: '',
        line: position.line,
        column: position.col,
        problem: `YAML syntax error: ${problem ?? error.message.split('\n')[0]}`,
        expected: 'valid YAML (indent with spaces, one key per line, quote values containing ": " or "#")',
        fix: `correct the YAML at line ${position.line}, column ${position.col}`,
      };
    });
    throw new ConfigError(issues);
  }
  if (doc.contents === null) {
    throw new ConfigError([
      {
        file: displayPath,
        path: '',
        line: 1,
        column: 1,
        problem: text.trim() === '' ? 'the file is empty' : 'the file is empty (it holds only comments)',
        expected: 'a YAML mapping (the schema named on the first line of every environment file describes it)',
        fix: displayPath.endsWith('.outputs.yaml')
          ? `copy environments/dev.outputs.yaml (placeholders) to ${displayPath} and change its names, or run \`npm run bootstrap\``
          : `copy environments/dev.yaml to ${displayPath} and change name, account and hostnames`,
      },
    ]);
  }
  const data: unknown = doc.toJS({ maxAliasCount: 100 });
  return {
    file: displayPath,
    data,
    locate: (path, key = false) => locate(doc, lineCounter, path, key),
    sourceText: (path) => {
      const node = doc.getIn(path, true) as Node | undefined;
      return node?.range ? text.slice(node.range[0], node.range[1]) : undefined;
    },
  };
}

function locate(
  doc: Document,
  lineCounter: LineCounter,
  path: readonly (string | number)[],
  key: boolean,
): { line: number; column: number } | undefined {
  let node: unknown = doc.contents;
  let found: Node | undefined = doc.contents ?? undefined;
  for (const [index, segment] of path.entries()) {
    const last = index === path.length - 1;
    if (isMap(node)) {
      const pair = node.items.find((item) => (item.key as { value?: unknown } | null)?.value === segment);
      if (!pair) break;
      if (last && key) {
        found = pair.key as Node;
        break;
      }
      node = pair.value;
      found = (pair.value as Node | null) ?? (pair.key as Node);
    } else if (isSeq(node) && typeof segment === 'number') {
      const item = node.items[segment];
      if (item === undefined) break;
      node = item;
      found = item as Node;
    } else {
      break;
    }
  }
  const offset = found?.range?.[0];
  if (offset === undefined) return undefined;
  const position = lineCounter.linePos(offset);
  return { line: position.line, column: position.col };
}
