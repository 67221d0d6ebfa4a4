/**
 * The vendored charts: `charts/<name>-<version>.tgz`, each pinned in
 * `charts/charts.lock.yaml` with its repository, app version, sha256 and the
 * provenance of the archive. The render reads charts only from here and checks
 * every archive against its digest first, so it never touches the network and
 * a tampered archive cannot reach rendered/.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isMap, isSeq, LineCounter, parseDocument, type Node } from 'yaml';
import type { ConfigIssue } from '../config/errors.js';
import type { ChartConfig } from '../config/schema.js';

export const CHARTS_DIR = 'charts';
export const CHARTS_LOCK = `${CHARTS_DIR}/charts.lock.yaml`;

/** Where an archive came from, when it was not pulled from its chart repository. */
export interface ChartProvenance {
  /** Upstream source repository of the chart. */
  source: string;
  /** Release tag the chart was packaged from. */
  ref: string;
  /** Commit the tag pointed to. */
  commit: string;
  /** Folder of the chart in the source repository. */
  path: string;
  /** The release's own packaging steps, as run (generated CRDs, version stamping, dependencies). */
  steps: string[];
}

export interface LockedChart {
  name: string;
  version: string;
  appVersion: string;
  repository: string;
  /** File name under charts/. */
  archive: string;
  sha256: string;
  /** Absent when the archive was pulled from `repository` with `npm run charts:pull`. */
  provenance?: ChartProvenance;
}

export interface ChartLock {
  charts: LockedChart[];
  /** 1-based line of each entry, for error messages. */
  lines: Map<LockedChart, number>;
}

export class ChartLockError extends Error {
  constructor(readonly issues: ConfigIssue[]) {
    super(issues.map((issue) => `${issue.file}${issue.line ? `:${issue.line}:${issue.column ?? 1}` : ''}: ${issue.path || '(file)'}: ${issue.problem}${issue.expected ? `\n  expected: ${issue.expected}` : ''}${issue.fix ? `\n  fix: ${issue.fix}` : ''}`).join('\n'));
    this.name = 'ChartLockError';
  }
}

const SHA256 = /^[a-f0-9]{64}$/;
const STRING_FIELDS = ['name', 'version', 'appVersion', 'repository', 'archive', 'sha256'] as const;

function lineOf(node: Node | null | undefined, counter: LineCounter): number | undefined {
  return node?.range ? counter.linePos(node.range[0]).line : undefined;
}

/** Reads and checks the shape of charts/charts.lock.yaml under `root`. */
export function readChartLock(root: string): ChartLock {
  const file = join(root, CHARTS_LOCK);
  if (!existsSync(file)) {
    throw new ChartLockError([{ file: CHARTS_LOCK, path: '', problem: 'the chart lock is missing', fix: 'restore it from git; `npm run charts:pull -- <chart> <version>` adds entries' }]);
  }
  const counter = new LineCounter();
  const document = parseDocument(readFileSync(file, 'utf8'), { lineCounter: counter });
  const issues: ConfigIssue[] = [];
  if (document.errors.length > 0) {
    throw new ChartLockError(document.errors.map((error) => ({ file: CHARTS_LOCK, path: '', line: error.linePos?.[0].line, column: error.linePos?.[0].col, problem: error.message })));
  }
  const list = document.get('charts', true);
  if (!isSeq(list)) throw new ChartLockError([{ file: CHARTS_LOCK, path: 'charts', problem: 'must be a list of pinned charts' }]);
  const charts: LockedChart[] = [];
  const lines = new Map<LockedChart, number>();
  list.items.forEach((item, index) => {
    const line = lineOf(item as Node, counter);
    const path = `charts[${index}]`;
    if (!isMap(item)) {
      issues.push({ file: CHARTS_LOCK, path, line, problem: 'must be a mapping' });
      return;
    }
    const entry = item.toJSON() as Record<string, unknown>;
    const missing = STRING_FIELDS.filter((field) => typeof entry[field] !== 'string' || entry[field] === '');
    for (const field of missing) issues.push({ file: CHARTS_LOCK, path: `${path}.${field}`, line, problem: 'is missing or not a string' });
    if (missing.length > 0) return;
    const chart = entry as unknown as LockedChart;
    if (!SHA256.test(chart.sha256)) issues.push({ file: CHARTS_LOCK, path: `${path}.sha256`, line, problem: `"${chart.sha256}" is not a sha256 digest`, expected: '64 lower-case hex digits' });
    if (chart.archive !== `${chart.name}-${chart.version}.tgz`) {
      issues.push({ file: CHARTS_LOCK, path: `${path}.archive`, line, problem: `"${chart.archive}" does not name the chart and version`, expected: `${chart.name}-${chart.version}.tgz` });
    }
    charts.push(chart);
    lines.set(chart, line ?? 1);
  });
  const seen = new Set<string>();
  for (const chart of charts) {
    const key = `${chart.name}@${chart.version}`;
    if (seen.has(key)) issues.push({ file: CHARTS_LOCK, path: 'charts', line: lines.get(chart), problem: `${key} is pinned twice` });
    seen.add(key);
  }
  if (issues.length > 0) throw new ChartLockError(issues);
  return { charts, lines };
}

export function sha256Of(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

/** The locked entry for an environment's chart pin, or the issue that says why there is none. */
export function lockedChart(lock: ChartLock, pin: ChartConfig): LockedChart | undefined {
  return lock.charts.find((chart) => chart.name === pin.chart && chart.version === pin.version);
}

/**
 * Checks one archive against its digest. Returns an issue naming the archive
 * when it is missing or differs.
 */
export function verifyArchive(root: string, chart: LockedChart, lock: ChartLock): ConfigIssue | undefined {
  const path = join(root, CHARTS_DIR, chart.archive);
  const file = `${CHARTS_DIR}/${chart.archive}`;
  if (!existsSync(path)) {
    return { file, path: '', problem: `the archive of ${chart.name} ${chart.version} is missing`, fix: `npm run charts:pull -- ${chart.name} ${chart.version}` };
  }
  const actual = sha256Of(path);
  if (actual === chart.sha256) return undefined;
  return {
    file,
    path: '',
    problem: `sha256 ${actual} does not match the lock (${CHARTS_LOCK}:${lock.lines.get(chart) ?? 1} pins ${chart.sha256}); the archive was changed or replaced`,
    fix: `restore it (git checkout -- ${file}) or pull it again from its repository: npm run charts:pull -- ${chart.name} ${chart.version}`,
  };
}
