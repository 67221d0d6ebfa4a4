/**
 * Writes one entry of charts/charts.lock.yaml: replaces the entry of the same
 * chart and version (or adds it), keeps the header comment and every other
 * entry byte for byte, sorts the entries by name then version, and replaces
 * the file atomically. The new text is checked with readChartLock first, so a
 * write never leaves a lock the render refuses.
 */
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isMap, isSeq, parseDocument, type Node, type YAMLMap } from 'yaml';
import { CHARTS_DIR, CHARTS_LOCK, readChartLock, type LockedChart } from './lock.js';

const VERSION = /^v?(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?/;

/** Semantic-version order (a leading v ignored; a pre-release before its release); other strings in code-point order. */
export function compareVersions(a: string, b: string): number {
  const [left, right] = [VERSION.exec(a), VERSION.exec(b)];
  if (!left || !right) return a < b ? -1 : a > b ? 1 : 0;
  for (let part = 1; part <= 3; part += 1) {
    const difference = Number(left[part]) - Number(right[part]);
    if (difference !== 0) return Math.sign(difference);
  }
  const [pre, otherPre] = [left[4], right[4]];
  if (pre === otherPre) return a < b ? -1 : a > b ? 1 : 0;
  if (pre === undefined) return 1;
  if (otherPre === undefined) return -1;
  return pre < otherPre ? -1 : 1;
}

function entryKey(item: unknown): { name: string; version: string } {
  const map = item as YAMLMap;
  return { name: String(map.get('name')), version: String(map.get('version')) };
}

/** The new text of the lock with `entry` in place. */
export function lockWithEntry(text: string, entry: LockedChart): string {
  const document = parseDocument(text);
  if (document.errors.length > 0) throw new Error(`${CHARTS_LOCK}: ${document.errors[0]!.message}`);
  const list = document.get('charts', true);
  if (!isSeq(list)) throw new Error(`${CHARTS_LOCK}: charts: must be a list of pinned charts`);
  const items = list.items.filter((item) => {
    if (!isMap(item)) return true;
    const key = entryKey(item);
    return !(key.name === entry.name && key.version === entry.version);
  });
  // Field order of the lock: the identity, then where the archive is and its digest, then its provenance.
  const fields: LockedChart = {
    name: entry.name,
    version: entry.version,
    appVersion: entry.appVersion,
    repository: entry.repository,
    archive: entry.archive,
    sha256: entry.sha256,
    ...(entry.provenance ? { provenance: entry.provenance } : {}),
  };
  items.push(document.createNode(fields) as Node);
  items.sort((a, b) => {
    const [left, right] = [entryKey(a), entryKey(b)];
    if (left.name !== right.name) return left.name < right.name ? -1 : 1;
    return compareVersions(left.version, right.version);
  });
  list.items = items;
  return document.toString({ lineWidth: 0 });
}

/** Replaces or adds `entry` in `root`/charts/charts.lock.yaml, atomically; a result the render would refuse is never written. */
export function writeLockEntry(root: string, entry: LockedChart): void {
  const file = join(root, CHARTS_LOCK);
  const text = lockWithEntry(readFileSync(file, 'utf8'), entry);
  // Check the new lock with the render's own reader before it replaces the old one.
  const check = mkdtempSync(join(tmpdir(), 'charts-lock-'));
  try {
    mkdirSync(join(check, CHARTS_DIR));
    writeFileSync(join(check, CHARTS_LOCK), text);
    readChartLock(check);
  } finally {
    rmSync(check, { recursive: true, force: true });
  }
  const staging = `${file}.${process.pid}.tmp`;
  writeFileSync(staging, text);
  renameSync(staging, file);
}
