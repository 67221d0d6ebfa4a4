/**
 * The vendored charts agree with the environments and with themselves, in
 * process (no helm): every pinned chart version has a lock entry whose archive
 * matches its digest, every lock entry says what its archive's Chart.yaml says,
 * and the pieces of `npm run charts:pull` that decide and write (the pull plan,
 * the index digest lookup, the lock writer, the archive reader) refuse what
 * they must.
 */
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { ChartArchiveError, readChartMetadata } from '../generator/charts/archive.js';
import { CHARTS_LOCK, readChartLock, verifyArchive, type LockedChart } from '../generator/charts/lock.js';
import { compareVersions, lockWithEntry, writeLockEntry } from '../generator/charts/lock-update.js';
import { environmentPins, pullReason, unusedCharts, type ChartPin } from '../generator/charts/pull.js';
import { indexDigest } from '../generator/charts/repository-index.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const scratch = mkdtempSync(join(tmpdir(), 'charts-lock-test-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** A one-file ustar archive, gzip-compressed: enough for the archive reader. */
function tgz(files: Record<string, string>): Buffer {
  const blocks: Buffer[] = [];
  for (const [path, text] of Object.entries(files)) {
    const body = Buffer.from(text, 'utf8');
    const header = Buffer.alloc(512);
    header.write(path, 0, 100, 'utf8');
    header.write('0000644\0', 100);
    header.write('0000000\0', 108);
    header.write('0000000\0', 116);
    header.write(`${body.length.toString(8).padStart(11, '0')}\0`, 124);
    header.write('00000000000\0', 136);
    header.write('0', 156);
    header.write('ustar\0', 257);
    header.write('00', 263);
    header.fill(' ', 148, 156);
    let sum = 0;
    for (const byte of header) sum += byte;
    header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
    blocks.push(header, body, Buffer.alloc((512 - (body.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return gzipSync(Buffer.concat(blocks));
}

function fixture(name: string, content: Buffer | string): string {
  const file = join(scratch, name);
  writeFileSync(file, content);
  return file;
}

describe('the vendored charts', () => {
  const lock = readChartLock(ROOT);
  const pins = environmentPins(ROOT);

  it('every chart an environment pins has a lock entry, from the same repository, whose archive matches its digest', () => {
    expect(pins.length).toBeGreaterThanOrEqual(5);
    for (const pin of pins) {
      const entry = lock.charts.find((candidate) => candidate.name === pin.chart && candidate.version === pin.version);
      expect(entry, `${pin.chart} ${pin.version} (${pin.pinnedBy.join(', ')}) is not in ${CHARTS_LOCK}`).toBeDefined();
      expect(entry!.repository).toBe(pin.repository);
      expect(verifyArchive(ROOT, entry!, lock)).toBeUndefined();
      expect(pullReason(ROOT, lock, pin)).toBeUndefined();
    }
    expect(unusedCharts(ROOT, lock, pins)).toEqual([]);
  });

  it("every lock entry's name, version and appVersion are those of its archive's Chart.yaml", () => {
    for (const entry of lock.charts) {
      const chart = readChartMetadata(join(ROOT, 'charts', entry.archive));
      expect({ name: chart.name, version: chart.version, appVersion: chart.appVersion }).toEqual({ name: entry.name, version: entry.version, appVersion: entry.appVersion });
    }
  });

  it('the digest check fails on a tampered copy of an archive, naming it', () => {
    const root = join(scratch, 'tampered');
    mkdirSync(join(root, 'charts'), { recursive: true });
    copyFileSync(join(ROOT, CHARTS_LOCK), join(root, CHARTS_LOCK));
    const entry = lock.charts[0]!;
    const bytes = readFileSync(join(ROOT, 'charts', entry.archive));
    bytes[100] = bytes[100]! ^ 0x01;
    writeFileSync(join(root, 'charts', entry.archive), bytes);
    const copy = readChartLock(root);
    expect(verifyArchive(root, copy.charts[0]!, copy)?.file).toBe(`charts/${entry.archive}`);
    expect(pullReason(root, copy, { chart: entry.name, version: entry.version, repository: entry.repository, pinnedBy: [] })).toBe('its archive differs from the lock');
  });
});

describe('the pull plan', () => {
  const root = join(scratch, 'plan');
  mkdirSync(join(root, 'charts'), { recursive: true });
  copyFileSync(join(ROOT, CHARTS_LOCK), join(root, CHARTS_LOCK));
  const lock = readChartLock(root);
  const argo = lock.charts.find((entry) => entry.name === 'argo-cd')!;
  copyFileSync(join(ROOT, 'charts', argo.archive), join(root, 'charts', argo.archive));
  const pin = (over: Partial<ChartPin> = {}): ChartPin => ({ chart: argo.name, version: argo.version, repository: argo.repository, pinnedBy: [], ...over });

  it('pulls what the lock lacks, what has no archive, and what the lock records from another repository', () => {
    expect(pullReason(root, lock, pin())).toBeUndefined();
    expect(pullReason(root, lock, pin({ version: '9.9.9' }))).toBe(`not in ${CHARTS_LOCK}`);
    expect(pullReason(root, lock, pin({ chart: 'longhorn', version: '1.12.0', repository: 'https://charts.longhorn.io' }))).toBe('its archive is missing');
    expect(pullReason(root, lock, pin({ repository: 'https://example.org/charts' }))).toBe(`${CHARTS_LOCK} records it from ${argo.repository}`);
  });

  it('reports lock entries no environment pins and archives the lock does not name, and deletes nothing', () => {
    writeFileSync(join(root, 'charts', 'stray-1.0.0.tgz'), 'not an archive');
    const unused = unusedCharts(root, lock, [pin()]);
    expect(unused).toHaveLength(lock.charts.length);
    expect(unused).toContain('charts/longhorn-1.12.0.tgz (longhorn 1.12.0): no environment pins it; delete the archive and its lock entry when nothing needs it');
    expect(unused.at(-1)).toBe(`charts/stray-1.0.0.tgz: not in ${CHARTS_LOCK}, so the render never reads it`);
    expect(readFileSync(join(root, 'charts', 'stray-1.0.0.tgz'), 'utf8')).toBe('not an archive');
  });

  it('refuses environments that pin one chart version from two repositories', () => {
    const conflicting = join(scratch, 'conflict');
    cpSync(join(ROOT, 'environments'), join(conflicting, 'environments'), { recursive: true });
    const file = join(conflicting, 'environments', 'staging.yaml');
    writeFileSync(file, `${readFileSync(file, 'utf8').trimEnd()}\naddons:\n  longhorn:\n    repoURL: https://mirror.example.org/longhorn\n`);
    expect(() => environmentPins(conflicting)).toThrow(/environments\/staging\.yaml: addons\.longhorn\.repoURL: longhorn@1\.12\.0 is pinned from https:\/\/mirror\.example\.org\/longhorn here but from https:\/\/charts\.longhorn\.io/);
  });
});

describe('the index digest lookup', () => {
  const digest = 'a'.repeat(64);
  const index = `apiVersion: v1\nentries:\n  demo:\n    - version: 0.2.0\n      digest: ${'b'.repeat(64)}\n      urls: [demo-0.2.0.tgz]\n    - version: 0.1.0\n      digest: ${digest}\n      urls:\n        - https://cdn.example.org/demo-0.1.0.tgz\n    - version: 0.0.1\n      urls: [demo-0.0.1.tgz]\n`;

  it('finds the digest, its position and the archive URL', () => {
    expect(indexDigest(index, 'https://x/index.yaml', 'demo', '0.1.0')).toEqual({ digest, path: 'entries.demo[1].digest', line: 8, column: 15, url: 'https://cdn.example.org/demo-0.1.0.tgz' });
  });

  it('refuses an unknown chart, an unpublished version, an entry without a digest and a malformed one', () => {
    expect(indexDigest(index, 'i.yaml', 'other', '0.1.0')).toMatchObject({ file: 'i.yaml', path: 'entries.other', problem: 'the repository has no chart named other' });
    expect(indexDigest(index, 'i.yaml', 'demo', '0.3.0')).toMatchObject({ problem: 'the repository publishes no demo 0.3.0', expected: 'one of its versions, newest first: 0.2.0, 0.1.0, 0.0.1' });
    expect(indexDigest(index, 'i.yaml', 'demo', '0.0.1')).toMatchObject({ path: 'entries.demo[2].digest', problem: 'demo 0.0.1 has no digest, so the archive cannot be verified' });
    expect(indexDigest(index.replace(digest, 'sha256:abc'), 'i.yaml', 'demo', '0.1.0')).toMatchObject({ problem: '"sha256:abc" is not a sha256 digest' });
    expect(indexDigest('entries: [', 'i.yaml', 'demo', '0.1.0')).toMatchObject({ file: 'i.yaml', line: 1 });
  });
});

describe('the lock writer', () => {
  const text = readFileSync(join(ROOT, CHARTS_LOCK), 'utf8');
  const entry: LockedChart = { name: 'demo', version: '1.10.0', appVersion: '1.0', repository: 'https://example.org/charts', archive: 'demo-1.10.0.tgz', sha256: '0'.repeat(64) };

  it('adds an entry in name-then-version order and leaves every other byte, header comment included', () => {
    const older = lockWithEntry(text, { ...entry, version: '1.9.0', archive: 'demo-1.9.0.tgz' });
    const both = lockWithEntry(older, entry);
    const root = join(scratch, 'writer');
    mkdirSync(join(root, 'charts'), { recursive: true });
    writeFileSync(join(root, CHARTS_LOCK), both);
    const charts = readChartLock(root).charts;
    expect(charts.map((chart) => `${chart.name} ${chart.version}`)).toEqual(['argo-cd 9.5.2', 'cert-manager v1.19.1', 'demo 1.9.0', 'demo 1.10.0', 'external-secrets 2.5.0', 'grafana 12.11.1', 'longhorn 1.12.0', 'prometheus 29.27.0', 'tailscale-operator 1.102.2', 'victoria-logs-single 0.13.9']);
    // appVersion "1.0" and the all-digit digest stay strings.
    expect(charts[3]).toEqual(entry);
    const header = text.slice(0, text.indexOf('charts:'));
    expect(header.startsWith('# ')).toBe(true);
    expect(both.startsWith(header)).toBe(true);
    expect(lockWithEntry(text, lock(text).find((chart) => chart.name === 'longhorn')!)).toBe(text);
  });

  it('replaces an entry of the same chart and version, dropping the provenance of an archive now pulled', () => {
    const longhorn = lock(text).find((chart) => chart.name === 'longhorn')!;
    expect(longhorn.provenance).toBeDefined();
    const replaced = lockWithEntry(text, { ...longhorn, provenance: undefined, sha256: 'f'.repeat(64) });
    const after = lock(replaced).filter((chart) => chart.name === 'longhorn');
    expect(after).toEqual([{ name: 'longhorn', version: '1.12.0', appVersion: longhorn.appVersion, repository: longhorn.repository, archive: longhorn.archive, sha256: 'f'.repeat(64) }]);
  });

  it('writes atomically and refuses to leave a lock the render would refuse', () => {
    const root = join(scratch, 'atomic');
    mkdirSync(join(root, 'charts'), { recursive: true });
    writeFileSync(join(root, CHARTS_LOCK), text);
    writeLockEntry(root, entry);
    const written = readFileSync(join(root, CHARTS_LOCK), 'utf8');
    expect(readChartLock(root).charts).toHaveLength(9);
    expect(() => writeLockEntry(root, { ...entry, version: '2.0.0', archive: 'elsewhere.tgz' })).toThrow(/charts\[3\]\.archive: "elsewhere\.tgz" does not name the chart and version/);
    expect(readFileSync(join(root, CHARTS_LOCK), 'utf8')).toBe(written);
    expect(readdirSync(join(root, 'charts'))).toEqual(['charts.lock.yaml']);
  });

  it('orders versions numerically, a leading v ignored, a pre-release before its release', () => {
    expect(['1.10.0', 'v1.9.1', '1.9.0', '1.10.0-rc.1', '0.1.0'].sort(compareVersions)).toEqual(['0.1.0', '1.9.0', 'v1.9.1', '1.10.0-rc.1', '1.10.0']);
  });
});

function lock(text: string): LockedChart[] {
  const root = mkdtempSync(join(scratch, 'parse-'));
  mkdirSync(join(root, 'charts'));
  writeFileSync(join(root, CHARTS_LOCK), text);
  return readChartLock(root).charts;
}

describe('the archive reader', () => {
  it("reads the top-level Chart.yaml, not a dependency's, keeping versions as written", () => {
    const file = fixture('nested.tgz', tgz({ 'outer/charts/inner/Chart.yaml': 'name: inner\nversion: 9.9.9\n', 'outer/Chart.yaml': 'name: outer\nversion: 1.10\nappVersion: 2.0\n' }));
    expect(readChartMetadata(file)).toEqual({ name: 'outer', version: '1.10', appVersion: '2.0' });
  });

  it('refuses a file that is not gzip, an archive without Chart.yaml, and a Chart.yaml without a version', () => {
    expect(() => readChartMetadata(fixture('plain.tgz', 'not gzip'), 'charts/plain.tgz')).toThrow(/^charts\/plain\.tgz: not a gzip-compressed chart archive/);
    expect(() => readChartMetadata(fixture('empty.tgz', tgz({ 'x/values.yaml': 'a: 1\n' })))).toThrow(ChartArchiveError);
    expect(() => readChartMetadata(fixture('empty.tgz', tgz({ 'x/values.yaml': 'a: 1\n' })))).toThrow(/no <chart>\/Chart\.yaml at the top of the archive/);
    expect(() => readChartMetadata(fixture('noversion.tgz', tgz({ 'x/Chart.yaml': 'name: x\n' })))).toThrow(/x\/Chart\.yaml has no name or version string/);
    const truncated = tgz({ 'x/Chart.yaml': 'name: x\nversion: 1.0.0\n'.repeat(40) });
    const raw = gunzipSync(truncated).subarray(0, 700);
    expect(() => readChartMetadata(fixture('truncated.tgz', gzipSync(raw)))).toThrow(/truncated/);
  });
});
