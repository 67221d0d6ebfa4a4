/**
 * The scanners' allow-list: every finding of checkov or kube-score that the
 * repository accepts, in one file (generator/validate/scanner-allowlist.yaml),
 * each entry with the scanner, the check id, the objects (globs on
 * `Kind namespace/name`, cluster-scoped `Kind name`) or files it covers, and
 * the reason. A finding no entry covers is an error that says how to fix it or
 * what entry would allow it; an entry (or one of its globs) that covers no
 * finding is an error too, so the list never keeps a stale acceptance.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isMap, isSeq, LineCounter, parseDocument } from 'yaml';
import type { Finding } from '../findings.js';

export const ALLOWLIST_FILE = 'generator/validate/scanner-allowlist.yaml';
export const SCANNERS = ['checkov', 'kube-score'] as const;
export type Scanner = (typeof SCANNERS)[number];

/** One finding of a scanner, in the repository's words. */
export interface ScannerFinding {
  scanner: Scanner;
  check: string;
  /** What the check says, in the scanner's words. */
  title: string;
  env: string;
  /** Repository-relative file. */
  file: string;
  line?: number;
  /** `Kind namespace/name` (cluster-scoped: `Kind name`; CloudFormation: `AWS::Type LogicalId`). */
  object: string;
  /** Details (kube-score's comments, checkov's guideline), may be empty. */
  detail: string;
}

export interface AllowEntry {
  scanner: Scanner;
  check: string;
  objects: string[];
  files: string[];
  envs?: string[];
  reason: string;
  /** Line of the entry in the allow-list file. */
  line: number;
}

export interface Allowlist {
  entries: AllowEntry[];
  /** Malformed entries, as gate findings. */
  problems: Finding[];
}

const problem = (line: number, path: string, message: string): Finding => ({ gate: 'scanners', severity: 'error', file: ALLOWLIST_FILE, line, resource: '', path, message, rule: 'scanner-allowlist' });

const strings = (value: unknown): string[] | undefined => (Array.isArray(value) && value.every((item) => typeof item === 'string') ? (value as string[]) : undefined);

export function parseAllowlist(text: string): Allowlist {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter });
  const entries: AllowEntry[] = [];
  const problems: Finding[] = document.errors.map((error) => problem(error.linePos?.[0].line ?? 1, '', `not valid YAML: ${error.message}`));
  if (problems.length > 0) return { entries, problems };
  const root = document.contents;
  if (!isSeq(root)) return { entries, problems: [problem(1, '', 'expected a list of entries (scanner, check, objects or files, reason)')] };
  root.items.forEach((node, index) => {
    const line = lineCounter.linePos(node && typeof node === 'object' && 'range' in node && node.range ? node.range[0] : 0).line;
    const at = `[${index}]`;
    if (!isMap(node)) {
      problems.push(problem(line, at, 'expected an entry with scanner, check, objects or files, and reason'));
      return;
    }
    const value = node.toJSON() as Record<string, unknown>;
    const known = new Set(['scanner', 'check', 'objects', 'files', 'envs', 'reason']);
    const unknown = Object.keys(value).filter((key) => !known.has(key));
    const objects = value.objects === undefined ? [] : strings(value.objects);
    const files = value.files === undefined ? [] : strings(value.files);
    const envs = value.envs === undefined ? undefined : strings(value.envs);
    const issues = [
      ...unknown.map((key) => `unknown field "${key}"; expected scanner, check, objects, files, envs, reason`),
      ...(!(SCANNERS as readonly unknown[]).includes(value.scanner) ? [`scanner must be one of ${SCANNERS.join(', ')}, got ${JSON.stringify(value.scanner)}`] : []),
      ...(typeof value.check !== 'string' || value.check === '' ? ['check must be the scanner\'s check id, e.g. CKV_K8S_16 or container-security-context-privileged'] : []),
      ...(objects === undefined ? ['objects must be a list of globs on "Kind namespace/name"'] : []),
      ...(files === undefined ? ['files must be a list of globs on repository paths'] : []),
      ...(objects && files && objects.length + files.length === 0 ? ['give objects or files: which findings the entry accepts'] : []),
      ...(value.envs !== undefined && envs === undefined ? ['envs must be a list of environment names'] : []),
      ...(typeof value.reason !== 'string' || value.reason.trim().length < 20 ? ['reason must say why the finding is accepted, in a sentence'] : []),
    ];
    if (issues.length > 0) {
      for (const issue of issues) problems.push(problem(line, at, issue));
      return;
    }
    entries.push({ scanner: value.scanner as Scanner, check: value.check as string, objects: objects!, files: files!, ...(envs ? { envs } : {}), reason: value.reason as string, line });
  });
  return { entries, problems };
}

export function readAllowlist(root: string): Allowlist {
  return parseAllowlist(readFileSync(join(root, ALLOWLIST_FILE), 'utf8'));
}

const globCache = new Map<string, RegExp>();
/** `*` any characters, `?` one; everything else literal. */
export function globMatches(glob: string, text: string): boolean {
  let pattern = globCache.get(glob);
  if (!pattern) {
    pattern = new RegExp(`^${glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
    globCache.set(glob, pattern);
  }
  return pattern.test(text);
}

/** The globs of `entry` that cover `finding` (empty: the entry does not cover it). */
function coveringGlobs(entry: AllowEntry, finding: ScannerFinding): string[] {
  if (entry.scanner !== finding.scanner || entry.check !== finding.check) return [];
  if (entry.envs && !entry.envs.includes(finding.env)) return [];
  return [...entry.objects.filter((glob) => globMatches(glob, finding.object)).map((glob) => `objects:${glob}`), ...entry.files.filter((glob) => globMatches(glob, finding.file)).map((glob) => `files:${glob}`)];
}

export interface AllowResult {
  /** Findings no entry covers, as gate errors. */
  findings: Finding[];
  /** How many scanner findings the list accepted. */
  allowed: number;
}

/**
 * Applies the list. `complete` says the scanners ran over every environment,
 * so an entry that covers nothing is stale (with --env, entries for other
 * environments would look stale: they are not reported then).
 */
export function applyAllowlist(list: Allowlist, found: ScannerFinding[], options: { complete: boolean; scanners: readonly Scanner[] }): AllowResult {
  const used = new Set<string>();
  const findings: Finding[] = [...list.problems];
  let allowed = 0;
  for (const finding of found) {
    const covering = list.entries.flatMap((entry, index) => coveringGlobs(entry, finding).map((glob) => `${index}#${glob}`));
    if (covering.length > 0) {
      allowed += 1;
      for (const key of covering) used.add(key);
      continue;
    }
    const suggestion = `{ scanner: ${finding.scanner}, check: ${finding.check}, objects: ["${finding.object}"], reason: "<why this is right here>" }`;
    findings.push({
      gate: 'scanners',
      severity: 'error',
      file: finding.file,
      ...(finding.line !== undefined ? { line: finding.line } : {}),
      resource: finding.object,
      path: '',
      message: `${finding.scanner} ${finding.check}: ${finding.title}${finding.detail ? ` (${finding.detail})` : ''}. Fix the manifest's input (environment config, generator or chart values), or accept it with its reason in ${ALLOWLIST_FILE}: ${suggestion}`,
      rule: `${finding.scanner}:${finding.check}`,
    });
  }
  if (options.complete) {
    list.entries.forEach((entry, index) => {
      if (!options.scanners.includes(entry.scanner)) return;
      for (const glob of [...entry.objects.map((g) => `objects:${g}`), ...entry.files.map((g) => `files:${g}`)]) {
        if (used.has(`${index}#${glob}`)) continue;
        findings.push(problem(entry.line, `[${index}].${glob.split(':')[0]}`, `stale entry: ${entry.scanner} ${entry.check} finds nothing in ${glob.replace(':', ' ')}${entry.envs ? ` (envs ${entry.envs.join(', ')})` : ''}; remove it from the entry (the finding is fixed), or correct the check id or glob`));
      }
    });
  }
  return { findings, allowed };
}
