/**
 * `npm run charts:pull` against a chart repository served on 127.0.0.1: a
 * tiny chart packaged with the pinned helm and indexed with `helm repo index`,
 * in three copies of the repository (one honest, one whose index.yaml
 * publishes another digest, one whose index lists the archive under a version
 * it is not). Each pull runs the real command (launch.mjs, the pinned helm) in
 * a scratch checkout holding a copy of the real lock and environments.
 */
import { spawn } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, normalize, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, parseDocument, stringify } from 'yaml';
import { ensureHelm, helmEnvironment, runHelm } from '../generator/charts/helm.js';
import { CHARTS_LOCK, readChartLock, sha256Of } from '../generator/charts/lock.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const PULL_TIMEOUT_MS = 180_000;

let helm: string;
let work: string;
let server: Server;
let base: string;
let goodDigest: string;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `npm run charts:pull -- <args>` (through launch.mjs) in `root`; kills it by PID after a generous time-out. */
function pull(root: string, args: string[]): Promise<Run> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(process.execPath, [join(ROOT, 'generator', 'launch.mjs'), 'charts/pull', ...args, '--root', root], {
      env: { ...process.env, DUBAI_HUB_HELM: helm },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    const timer = setTimeout(() => {
      if (child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
    }, PULL_TIMEOUT_MS);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolveRun({ code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
    });
  });
}

/** A scratch checkout: the real lock (header, five entries) and environments, no archives. */
function scratchRoot(): string {
  const root = mkdtempSync(join(work, 'root-'));
  mkdirSync(join(root, 'charts'));
  copyFileSync(join(ROOT, CHARTS_LOCK), join(root, CHARTS_LOCK));
  cpSync(join(ROOT, 'environments'), join(root, 'environments'), { recursive: true });
  return root;
}

/** Serves `dir` read-only on 127.0.0.1 on a free port. */
function serve(dir: string): Promise<Server> {
  const httpServer = createServer((request, response) => {
    const path = normalize(join(dir, decodeURIComponent(new URL(request.url ?? '/', 'http://127.0.0.1').pathname)));
    if (!path.startsWith(dir) || !existsSync(path) || !path.match(/\.(yaml|tgz)$/)) {
      response.writeHead(404).end('not found');
      return;
    }
    response.writeHead(200, { 'content-type': path.endsWith('.yaml') ? 'text/yaml' : 'application/gzip' }).end(readFileSync(path));
  });
  return new Promise((resolveServer) => httpServer.listen(0, '127.0.0.1', () => resolveServer(httpServer)));
}

/** Rewrites the index.yaml of a repository folder. */
function editIndex(dir: string, edit: (index: { entries: Record<string, Record<string, unknown>[]> }) => void): void {
  const file = join(dir, 'index.yaml');
  const index = parse(readFileSync(file, 'utf8')) as { entries: Record<string, Record<string, unknown>[]> };
  edit(index);
  writeFileSync(file, stringify(index));
}

beforeAll(async () => {
  helm = ensureHelm(ROOT);
  work = mkdtempSync(join(tmpdir(), 'charts-pull-test-'));
  const env = helmEnvironment(work);
  const chart = join(work, 'src', 'demo');
  mkdirSync(join(chart, 'templates'), { recursive: true });
  writeFileSync(join(chart, 'Chart.yaml'), 'apiVersion: v2\nname: demo\nversion: 0.1.0\nappVersion: "1.2.3"\ndescription: A chart for the charts:pull test\n');
  writeFileSync(join(chart, 'templates', 'configmap.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-demo\ndata:\n  greeting: hello\n');
  const repos = join(work, 'repos');
  for (const name of ['good', 'bad-digest', 'wrong-version']) {
    const dir = join(repos, name);
    mkdirSync(dir, { recursive: true });
    await runHelm(helm, ['package', chart, '--destination', dir], { env });
  }
  // One archive, byte for byte, in all three repositories.
  for (const name of ['bad-digest', 'wrong-version']) copyFileSync(join(repos, 'good', 'demo-0.1.0.tgz'), join(repos, name, 'demo-0.1.0.tgz'));
  for (const name of ['good', 'bad-digest', 'wrong-version']) await runHelm(helm, ['repo', 'index', join(repos, name)], { env });
  goodDigest = sha256Of(join(repos, 'good', 'demo-0.1.0.tgz'));
  editIndex(join(repos, 'bad-digest'), (index) => {
    index.entries.demo![0]!.digest = goodDigest.replace(/^./, (first) => (first === '0' ? '1' : '0'));
  });
  editIndex(join(repos, 'wrong-version'), (index) => {
    index.entries.demo!.push({ ...structuredClone(index.entries.demo![0]!), version: '0.2.0' });
  });
  server = await serve(repos);
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}, 600_000);

afterAll(async () => {
  if (server) await new Promise((done) => server.close(done));
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('npm run charts:pull against a local chart repository', () => {
  it(
    'pulls a chart into charts/ and the lock, keeps the header and the sorted order, then does nothing a second time',
    async () => {
      const root = scratchRoot();
      const lockBefore = readFileSync(join(root, CHARTS_LOCK), 'utf8');
      const first = await pull(root, ['demo', '0.1.0', '--repository', `${base}/good`]);
      expect(first.stderr).toBe('');
      expect(first.code).toBe(0);
      expect(first.stdout).toContain(`charts:pull: demo 0.1.0: sha256 ${goodDigest} matches ${base}/good/index.yaml`);
      expect(first.stdout).toContain('charts:pull: demo 0.1.0: wrote charts/demo-0.1.0.tgz (appVersion 1.2.3)');
      // No environment pins the demo chart: reported, not deleted.
      expect(first.stdout).toContain('charts:pull: unused: charts/demo-0.1.0.tgz (demo 0.1.0): no environment pins it');

      expect(sha256Of(join(root, 'charts', 'demo-0.1.0.tgz'))).toBe(goodDigest);
      expect(readdirSync(join(root, 'charts')).sort()).toEqual(['charts.lock.yaml', 'demo-0.1.0.tgz']);
      const lock = readChartLock(root);
      // The repository's own charts stay, in order, with the new one sorted in.
      expect(lock.charts.map((entry) => entry.name)).toEqual([...readChartLock(ROOT).charts.map((entry) => entry.name), 'demo'].sort());
      expect(lock.charts.find((entry) => entry.name === 'demo')).toEqual({
        name: 'demo',
        version: '0.1.0',
        appVersion: '1.2.3',
        repository: `${base}/good`,
        archive: 'demo-0.1.0.tgz',
        sha256: goodDigest,
      });
      // Every other byte of the lock, header comment included, is as it was.
      const lockAfter = readFileSync(join(root, CHARTS_LOCK), 'utf8');
      const document = parseDocument(lockAfter);
      const list = document.get('charts') as { items: unknown[] };
      list.items.splice(2, 1);
      expect(document.toString({ lineWidth: 0 })).toBe(lockBefore);

      const second = await pull(root, ['demo', '0.1.0', '--repository', `${base}/good`]);
      expect(second.code).toBe(0);
      expect(second.stdout).toContain('demo 0.1.0: up to date');
      expect(second.stdout).not.toContain('pulling');
      expect(readFileSync(join(root, CHARTS_LOCK), 'utf8')).toBe(lockAfter);
    },
    2 * PULL_TIMEOUT_MS,
  );

  it(
    'pulls again an archive that no longer matches its lock entry',
    async () => {
      const root = scratchRoot();
      expect((await pull(root, ['demo', '0.1.0', '--repository', `${base}/good`])).code).toBe(0);
      const archive = join(root, 'charts', 'demo-0.1.0.tgz');
      const bytes = readFileSync(archive);
      bytes[bytes.length - 1] = bytes[bytes.length - 1]! ^ 0xff;
      writeFileSync(archive, bytes);
      const again = await pull(root, ['demo', '0.1.0']);
      expect(again.code).toBe(0);
      expect(again.stdout).toContain(`demo 0.1.0: pulling from ${base}/good (its archive differs from the lock)`);
      expect(sha256Of(archive)).toBe(goodDigest);
    },
    2 * PULL_TIMEOUT_MS,
  );

  it(
    'refuses an archive whose sha256 is not the digest in index.yaml, naming the index and the field, and writes nothing',
    async () => {
      const root = scratchRoot();
      const lockBefore = readFileSync(join(root, CHARTS_LOCK), 'utf8');
      const run = await pull(root, ['demo', '0.1.0', '--repository', `${base}/bad-digest`]);
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(new RegExp(`${base.replace(/[.]/g, '\\.')}/bad-digest/index\\.yaml:\\d+:\\d+: entries\\.demo\\[0\\]\\.digest: the archive helm pulled from ${base.replace(/[.]/g, '\\.')}/bad-digest/demo-0\\.1\\.0\\.tgz has sha256 ${goodDigest}, not the digest the repository publishes`));
      expect(run.stderr).toContain('nothing was written');
      expect(run.stderr).toContain('1 of 1 chart not vendored');
      expect(readdirSync(join(root, 'charts'))).toEqual(['charts.lock.yaml']);
      expect(readFileSync(join(root, CHARTS_LOCK), 'utf8')).toBe(lockBefore);
    },
    PULL_TIMEOUT_MS,
  );

  it(
    'refuses an archive whose Chart.yaml is another version than the one asked for',
    async () => {
      const root = scratchRoot();
      const lockBefore = readFileSync(join(root, CHARTS_LOCK), 'utf8');
      const run = await pull(root, ['demo', '0.2.0', '--repository', `${base}/wrong-version`]);
      expect(run.code).toBe(1);
      expect(run.stderr).toContain(`${base}/wrong-version/demo-0.1.0.tgz: Chart.yaml: version: is "0.1.0", but 0.2.0 was asked for`);
      expect(readdirSync(join(root, 'charts'))).toEqual(['charts.lock.yaml']);
      expect(readFileSync(join(root, CHARTS_LOCK), 'utf8')).toBe(lockBefore);
    },
    PULL_TIMEOUT_MS,
  );

  it(
    'refuses a version the repository does not publish, listing the ones it does',
    async () => {
      const root = scratchRoot();
      const run = await pull(root, ['demo', '0.3.0', '--repository', `${base}/good`]);
      expect(run.code).toBe(1);
      expect(run.stderr).toContain(`${base}/good/index.yaml: entries.demo: the repository publishes no demo 0.3.0`);
      expect(run.stderr).toContain('expected: one of its versions, newest first: 0.1.0');
      expect(readdirSync(join(root, 'charts'))).toEqual(['charts.lock.yaml']);
    },
    PULL_TIMEOUT_MS,
  );

  it(
    'without arguments pulls nothing when every pinned chart is vendored, and exits 2 on bad usage',
    async () => {
      const root = scratchRoot();
      for (const entry of readChartLock(ROOT).charts) copyFileSync(join(ROOT, 'charts', entry.archive), join(root, 'charts', entry.archive));
      const run = await pull(root, []);
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      expect(run.stdout).toContain('charts:pull: nothing to pull');
      expect(run.stdout).not.toContain('unused:');

      const usage = await pull(root, ['demo']);
      expect(usage.code).toBe(2);
      expect(usage.stderr).toContain('expected no arguments or <chart> <version>, got 1: demo');
      const stray = await pull(root, ['--repository', `${base}/good`]);
      expect(stray.code).toBe(2);
      expect(stray.stderr).toContain('--repository and --force go with <chart> <version>');
    },
    3 * PULL_TIMEOUT_MS,
  );
});
