/**
 * The rendered LiteLLM migration Job, run for real: its command and env from
 * rendered/dev, the LiteLLM version its image tag pins (from PyPI, cached under
 * the per-user tool cache), against a database that cannot be reached (127.0.0.1, a closed
 * port). A failed migration must fail the Job; without the rendered
 * ENFORCE_PRISMA_MIGRATION_CHECK the same run exits 0, which is the defect.
 * Prisma's engines cannot be downloaded here, so the migration fails before
 * it reaches the database; where they can, it fails on the connection and
 * exits the same way.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Manifest } from '../generator/render-environment.js';
import { ensureLitellmVenv, litellmVersionOf, type LitellmVenv } from './support/litellm-venv.js';
import { loadRenderedTree, podSpecOf } from './support/rendered-tree.js';

const job = loadRenderedTree().find((item) => item.env === 'dev' && item.manifest.kind === 'Job' && item.manifest.metadata.namespace === 'litellm')!.manifest as Manifest;
const container = podSpecOf(job)!.containers[0]!;
const tag = (container['image'] as string).split(':').pop()!;
const version = litellmVersionOf(tag);
const renderedEnv = Object.fromEntries((container['env'] as { name: string; value: string }[]).map(({ name, value }) => [name, value]));
const venvProbe = spawnSync('python3', ['-c', 'import venv, ensurepip'], { encoding: 'utf8', timeout: 20_000 });
const canInstall = !venvProbe.error && venvProbe.status === 0;
if (!canInstall) console.warn('skipped: the LiteLLM migration run needs python3 with venv and ensurepip (Debian: apt-get install python3-venv)');

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

interface Run {
  status: number | null;
  output: string;
}

/** Runs the Job's command as the pod would, with only the database URL overridden; stopped by PID after the time-out. */
async function runMigration(venv: LitellmVenv, env: Record<string, string>): Promise<Run> {
  const databaseUrl = `postgresql://litellm:unused@127.0.0.1:${await closedPort()}/litellm`;
  console.log(`override DATABASE_URL=${databaseUrl} (the ExternalSecret's Aurora URL)`);
  const child = spawn(container['command'][0], container['command'].slice(1), {
    cwd: venv.sitePackages, // the image's workingDir /app holds litellm/ as site-packages does here
    env: { ...env, DATABASE_URL: databaseUrl, HOME: venv.home, PATH: `${venv.bin}:/usr/local/bin:/usr/bin:/bin` },
  });
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  const timer = setTimeout(() => child.pid && process.kill(child.pid, 'SIGKILL'), 300_000);
  const status = await new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  clearTimeout(timer);
  return { status, output };
}

describe('the LiteLLM image tag', () => {
  it('names a PyPI release, and a tag that names none is said to', () => {
    expect(tag).toBe('v1.85.1');
    expect(version).toBe('1.85.1');
    expect(litellmVersionOf('main-latest')).toBeUndefined();
    expect(litellmVersionOf('v1.85.1-stable')).toBe('1.85.1');
  });
});

describe.skipIf(!canInstall || !version)('the rendered LiteLLM migration Job, run against an unreachable database', () => {
  let venv: LitellmVenv;
  beforeAll(() => {
    venv = ensureLitellmVenv(version!);
  }, 900_000);

  it.concurrent('exits non-zero, so Argo CD never starts the serving pods', async () => {
    expect(renderedEnv['ENFORCE_PRISMA_MIGRATION_CHECK']).toBe('true');
    const run = await runMigration(venv, renderedEnv);
    expect(run.status, run.output.slice(-2000)).toBe(1);
    expect(run.output).toContain('Database setup failed after multiple retries');
  }, 360_000);

  it.concurrent('would exit 0 without ENFORCE_PRISMA_MIGRATION_CHECK (what the Job did before)', async () => {
    const { ENFORCE_PRISMA_MIGRATION_CHECK: _dropped, ...withoutCheck } = renderedEnv;
    const run = await runMigration(venv, withoutCheck);
    expect(run.output).toContain('Database migration failed but continuing startup');
    expect(run.status, run.output.slice(-2000)).toBe(0);
  }, 360_000);
});
