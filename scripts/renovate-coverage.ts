/**
 * Proves that Renovate's custom managers (renovate.json) find every pinned
 * version in environments/*.yaml and every pinned default in
 * generator/config/schema.ts, with the right datasource and name, by running
 * them as Renovate does: each `matchStrings` entry as a JavaScript RegExp with
 * flag `g` over each file that a `managerFilePatterns` entry matches, the
 * named groups (or `*Template` fields) giving depName, currentValue,
 * datasource and registryUrl.
 *
 * Which values are pins comes from the schema, not from the regexes: an image
 * (an object with `repository` and `tag`), a Helm chart (`chart`, `repoURL`,
 * `version`), `k3s.version`, `node.tailscale.version`, and any other field whose description starts
 * with "Pinned" (which then needs a rule here and in renovate.json).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isMap, isScalar, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import { envConfigSchema } from '../generator/config/schema.js';

export interface RenovateConfig {
  ignorePaths?: string[];
  customManagers?: CustomManager[];
}

export interface CustomManager {
  customType: string;
  description?: string;
  managerFilePatterns?: string[];
  fileMatch?: string[];
  matchStrings: string[];
  matchStringsStrategy?: string;
  [template: string]: unknown;
}

/** A dependency as a Renovate custom manager extracts it. */
export interface Extracted {
  manager: number;
  file: string;
  depName?: string;
  currentValue?: string;
  currentDigest?: string;
  datasource?: string;
  registryUrl?: string;
  /** Offset of currentValue in the file. */
  offset: number;
}

export interface Pin {
  file: string;
  /** Field path in the config, e.g. openWebUI.image.tag. */
  path: string;
  line: number;
  column: number;
  offset: number;
  value: string;
  /** What Renovate must extract for it. */
  expect: { datasource: string; depName: string; registryUrl?: string; currentDigest?: string };
  /** How to write it so the manager finds it. */
  layout: string;
}

export interface CoverageProblem {
  where: string;
  problem: string;
  fix: string;
}

const FIELDS = ['depName', 'currentValue', 'currentDigest', 'datasource', 'registryUrl'] as const;

/** `{{{name}}}` and `{{name}}` substitution: all the templates in renovate.json use. */
function compile(template: string, groups: Record<string, string | undefined>): string {
  if (/\{\{[#/^>!]/.test(template)) throw new Error(`template "${template}" uses block helpers, which this check does not evaluate`);
  return template.replace(/\{\{\{?\s*([A-Za-z0-9_]+)\s*\}?\}\}/g, (_, name: string) => groups[name] ?? '');
}

/** `/regex/` patterns as Renovate reads them; glob patterns are refused so the check cannot silently differ. */
function filePattern(pattern: string): RegExp {
  const match = /^\/(.*)\/(i?)$/.exec(pattern);
  if (!match) throw new Error(`managerFilePatterns entry ${pattern} is a glob; write it as /regex/ so test/renovate.test.ts can evaluate it exactly`);
  return new RegExp(match[1]!, match[2]);
}

/** Constructs that RE2 (the engine Renovate uses when it is installed) rejects. */
export function re2Incompatibilities(pattern: string): string[] {
  const found: string[] = [];
  if (/\(\?[=!]/.test(pattern)) found.push('lookahead');
  if (/\(\?<[=!]/.test(pattern)) found.push('lookbehind');
  if (/\\[1-9]|\\k</.test(pattern)) found.push('backreference');
  return found;
}

/** `**` (any depth), `*` (within one folder); enough for the globs in renovate.json. */
function globToRegExp(glob: string): RegExp {
  let out = '';
  for (let i = 0; i < glob.length; i++) {
    const char = glob[i]!;
    if (char === '*' && glob[i + 1] === '*') {
      const slash = glob[i + 2] === '/';
      out += slash ? '(?:.*/)?' : '.*';
      i += slash ? 2 : 1;
    } else if (char === '*') out += '[^/]*';
    else out += char.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${out}$`);
}

/** Files Renovate would see: tracked and untracked-but-not-ignored, minus ignorePaths. */
export function repositoryFiles(root: string, config: RenovateConfig): string[] {
  const result = spawnSync('git', ['-C', root, 'ls-files', '--cached', '--others', '--exclude-standard', '-z'], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`git ls-files failed in ${root}: ${result.stderr}`);
  const ignorePaths = config.ignorePaths ?? [];
  const ignored = ignorePaths.map(globToRegExp);
  // As Renovate: a path is ignored when it contains an entry or matches it as a glob.
  return result.stdout
    .split('\0')
    .filter(Boolean)
    .filter((file) => !ignorePaths.some((entry, index) => file.includes(entry) || ignored[index]!.test(file)))
    .sort();
}

/** Runs every custom regex manager over the files, as Renovate's "any" strategy does. */
export function extract(root: string, config: RenovateConfig, files: string[]): Extracted[] {
  const out: Extracted[] = [];
  (config.customManagers ?? []).forEach((manager, index) => {
    if (manager.customType !== 'regex') return;
    if (manager.matchStringsStrategy && manager.matchStringsStrategy !== 'any') {
      throw new Error(`custom manager ${index}: matchStringsStrategy ${manager.matchStringsStrategy} is not evaluated by this check`);
    }
    const patterns = (manager.managerFilePatterns ?? manager.fileMatch ?? []).map(filePattern);
    for (const file of files.filter((path) => patterns.some((pattern) => pattern.test(path)))) {
      const content = readFileSync(join(root, file), 'utf8');
      for (const matchString of manager.matchStrings) {
        for (const match of content.matchAll(new RegExp(matchString, 'gd'))) {
          const groups = { ...(match.groups ?? {}) };
          const dep: Extracted = { manager: index, file, offset: match.indices?.groups?.['currentValue']?.[0] ?? match.index! };
          for (const field of FIELDS) {
            const template = manager[`${field}Template`];
            const value = typeof template === 'string' ? compile(template, groups) : groups[field];
            if (value) dep[field] = value;
          }
          if ((dep.depName || dep.currentValue) && dep.datasource) out.push(dep);
        }
      }
    }
  });
  return out;
}

type SchemaNode = { type?: string; description?: string; default?: unknown; properties?: Record<string, SchemaNode> };

interface PinRule {
  /** Path of the pinned value relative to the object that holds it. */
  key: string;
  datasource: string;
  identity(value: Record<string, unknown>): Pick<Pin['expect'], 'depName' | 'registryUrl' | 'currentDigest'>;
  layout: string;
}

function ruleFor(path: string[], node: SchemaNode): PinRule | undefined {
  const props = node.properties ?? {};
  if ('repository' in props && 'tag' in props) {
    return {
      key: 'tag',
      datasource: 'docker',
      identity: (value) => ({ depName: String(value['repository']), ...(value['digest'] ? { currentDigest: String(value['digest']) } : {}) }),
      layout: '`repository: <image>` on the line directly above `tag: <tag>` (then `digest:` if pinned)',
    };
  }
  if ('chart' in props && 'repoURL' in props && 'version' in props) {
    return {
      key: 'version',
      datasource: 'helm',
      identity: (value) => ({ depName: String(value['chart']), registryUrl: String(value['repoURL']) }),
      layout: '`chart:`, `repoURL: https://...` and `version:` on consecutive lines',
    };
  }
  if (path.join('.') === 'k3s') {
    return { key: 'version', datasource: 'github-releases', identity: () => ({ depName: 'k3s-io/k3s' }), layout: '`version:` inside the top-level `k3s:` block' };
  }
  if (path.join('.') === 'node.tailscale') {
    return { key: 'version', datasource: 'github-releases', identity: () => ({ depName: 'tailscale/tailscale' }), layout: '`tailscale:` inside the top-level `node:` block, `version:` on the next line' };
  }
  return undefined;
}

/**
 * Pinned fields Renovate deliberately does not move, and why. Each is listed
 * in the report so the exemption stays visible.
 */
export const NOT_MOVED_BY_RENOVATE: Record<string, string> = {
  'node.amiId':
    "a new AMI replaces the EC2 node (CloudFormation replaces the instance), and Renovate's aws-machine-image datasource needs AWS credentials; AMIs are bumped by hand in a reviewed pull request",
};

interface SchemaPin {
  path: string[];
  rule: PinRule;
  schema: SchemaNode;
}

/** Every pinned field of the environment schema; a "Pinned ..." field without a rule is an error. */
export function schemaPins(schema: SchemaNode = envConfigSchema as SchemaNode): SchemaPin[] {
  const pins: SchemaPin[] = [];
  const walk = (node: SchemaNode, path: string[]) => {
    const rule = ruleFor(path, node);
    if (rule) {
      pins.push({ path, rule, schema: node });
      return;
    }
    for (const [key, child] of Object.entries(node.properties ?? {})) {
      if (child.description?.startsWith('Pinned') && !child.properties && !(([...path, key].join('.')) in NOT_MOVED_BY_RENOVATE)) {
        throw new Error(`${[...path, key].join('.')} is described as pinned but no Renovate rule knows its kind; add one to scripts/renovate-coverage.ts and renovate.json`);
      }
      walk(child, [...path, key]);
    }
  };
  walk(schema, []);
  return pins;
}

/** The object a pin lives in, with schema defaults filled in for what the file leaves out. */
function withDefaults(pin: SchemaPin, value: Record<string, unknown>): Record<string, unknown> {
  const defaults = Object.fromEntries(Object.entries(pin.schema.properties ?? {}).flatMap(([key, node]) => (node.default === undefined ? [] : [[key, node.default]])));
  return { ...(pin.schema.default as Record<string, unknown> | undefined), ...defaults, ...value };
}

/** Pins written in one environment file, with their positions. */
export function environmentPins(file: string, source: string, pins = schemaPins()): Pin[] {
  const lines = new LineCounter();
  const doc: Document = parseDocument(source, { lineCounter: lines });
  const out: Pin[] = [];
  for (const pin of pins) {
    const holder = doc.getIn(pin.path, true);
    if (!isMap(holder)) continue;
    const node = holder.get(pin.rule.key, true) as Node | undefined;
    if (!isScalar(node) || !node.range) continue;
    const { line, col } = lines.linePos(node.range[0]);
    const identity = pin.rule.identity(withDefaults(pin, holder.toJSON() as Record<string, unknown>));
    out.push({
      file,
      path: [...pin.path, pin.rule.key].join('.'),
      line,
      column: col,
      offset: node.range[0] + (node.type === 'QUOTE_DOUBLE' || node.type === 'QUOTE_SINGLE' ? 1 : 0),
      value: String(node.value),
      expect: { datasource: pin.rule.datasource, ...identity },
      layout: pin.rule.layout,
    });
  }
  return out;
}

/** The schema's own defaults for every pin (they live in generator/config/schema.ts). */
export function defaultPins(pins = schemaPins()): Omit<Pin, 'line' | 'column' | 'offset'>[] {
  return pins.flatMap((pin) => {
    const value = withDefaults(pin, {});
    const current = value[pin.rule.key];
    if (typeof current !== 'string') return [];
    return [{ file: 'generator/config/schema.ts', path: [...pin.path, pin.rule.key].join('.'), value: current, expect: { datasource: pin.rule.datasource, ...pin.rule.identity(value) }, layout: 'the image(...), chart(...) and k3s version calls as they are written now' }];
  });
}

const describeDep = (dep: Partial<Extracted>) => FIELDS.filter((field) => dep[field]).map((field) => `${field}=${dep[field]}`).join(' ');

function sameIdentity(dep: Extracted, expect: Pin['expect'], value: string): boolean {
  const registry = (url?: string) => url?.replace(/\/+$/, '');
  return dep.currentValue === value && dep.datasource === expect.datasource && dep.depName === expect.depName && registry(dep.registryUrl) === registry(expect.registryUrl) && dep.currentDigest === expect.currentDigest;
}

/** Every problem: pins nobody extracts, extractions that are not pins, regexes RE2 would reject. */
export function checkRenovateCoverage(root: string, config: RenovateConfig): { problems: CoverageProblem[]; pins: number; extracted: Extracted[] } {
  const problems: CoverageProblem[] = [];
  (config.customManagers ?? []).forEach((manager, index) => {
    for (const pattern of manager.matchStrings) {
      const bad = re2Incompatibilities(pattern);
      if (bad.length > 0) problems.push({ where: `renovate.json customManagers[${index}]`, problem: `matchStrings uses ${bad.join(', ')}, which Renovate's RE2 engine rejects`, fix: 'rewrite the pattern without lookarounds or backreferences' });
    }
  });
  const files = repositoryFiles(root, config);
  const extracted = extract(root, config, files);
  const pins = schemaPins();
  let count = 0;

  const environmentFiles = files.filter((file) => /^environments\/[^/.]+\.yaml$/.test(file));
  for (const file of environmentFiles) {
    const found = environmentPins(file, readFileSync(join(root, file), 'utf8'), pins);
    count += found.length;
    const matched = new Set<Extracted>();
    for (const pin of found) {
      const candidates = extracted.filter((dep) => dep.file === file && dep.offset === pin.offset);
      const good = candidates.find((dep) => sameIdentity(dep, pin.expect, pin.value));
      candidates.forEach((dep) => matched.add(dep));
      if (good) continue;
      problems.push({
        where: `${file}:${pin.line}:${pin.column} ${pin.path} = ${pin.value}`,
        problem:
          candidates.length === 0
            ? 'no Renovate custom manager matches this pinned version, so Renovate would never update it'
            : `Renovate would read it as ${candidates.map(describeDep).join('; ')} instead of ${describeDep({ ...pin.expect, currentValue: pin.value })}`,
        fix: `write it as ${pin.layout}, or extend the custom managers in renovate.json`,
      });
    }
    for (const dep of extracted.filter((entry) => entry.file === file && !matched.has(entry))) {
      const { line, col } = lineAt(readFileSync(join(root, file), 'utf8'), dep.offset);
      problems.push({ where: `${file}:${line}:${col}`, problem: `renovate.json customManagers[${dep.manager}] extracts ${describeDep(dep)}, which is not a pinned version of the schema`, fix: 'tighten that matchStrings pattern' });
    }
  }

  for (const pin of defaultPins(pins)) {
    count++;
    if (extracted.some((dep) => dep.file === pin.file && sameIdentity(dep, pin.expect, pin.value))) continue;
    problems.push({
      where: `${pin.file} default of ${pin.path} = ${pin.value}`,
      problem: `no Renovate custom manager extracts ${describeDep({ ...pin.expect, currentValue: pin.value })}`,
      fix: `keep ${pin.layout}, or extend the custom managers in renovate.json`,
    });
  }
  return { problems, pins: count, extracted };
}

function lineAt(source: string, offset: number): { line: number; col: number } {
  const before = source.slice(0, offset).split('\n');
  return { line: before.length, col: before[before.length - 1]!.length + 1 };
}

export function formatCoverageProblems(problems: CoverageProblem[]): string {
  return problems.map((problem) => `${problem.where}: ${problem.problem}\n  fix: ${problem.fix}`).join('\n');
}
