/**
 * Reads a packaged chart (`<name>-<version>.tgz`) in-process: the top-level
 * `Chart.yaml` of the archive, without starting helm. `npm run charts:pull`
 * checks a pulled archive with it, and the lock tests compare every vendored
 * archive with its lock entry.
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { parse } from 'yaml';

export interface ChartMetadata {
  name: string;
  version: string;
  appVersion?: string;
}

export class ChartArchiveError extends Error {}

const BLOCK = 512;

function field(header: Buffer, start: number, length: number): string {
  const raw = header.subarray(start, start + length);
  const end = raw.indexOf(0);
  return raw.subarray(0, end === -1 ? length : end).toString('utf8');
}

function octal(header: Buffer, start: number, length: number, archive: string): number {
  const text = field(header, start, length).trim();
  if (!/^[0-7]*$/.test(text)) throw new ChartArchiveError(`${archive}: a tar header has the size "${text}", which is not octal; the archive is damaged`);
  return text === '' ? 0 : Number.parseInt(text, 8);
}

/** The `path` record of a PAX extended header, if it has one. */
function paxPath(body: Buffer): string | undefined {
  let offset = 0;
  while (offset < body.length) {
    const space = body.indexOf(0x20, offset);
    if (space === -1) break;
    const length = Number.parseInt(body.subarray(offset, space).toString('utf8'), 10);
    if (!Number.isInteger(length) || length <= 0) break;
    const record = body.subarray(space + 1, offset + length - 1).toString('utf8');
    const equals = record.indexOf('=');
    if (record.slice(0, equals) === 'path') return record.slice(equals + 1);
    offset += length;
  }
  return undefined;
}

/** Every regular file of a tar stream, by path. */
function* tarFiles(tar: Buffer, archive: string): Generator<{ path: string; content: Buffer }> {
  let offset = 0;
  let longPath: string | undefined;
  while (offset + BLOCK <= tar.length) {
    const header = tar.subarray(offset, offset + BLOCK);
    if (header.every((byte) => byte === 0)) return;
    const size = octal(header, 124, 12, archive);
    const type = String.fromCharCode(header[156] ?? 0);
    const body = tar.subarray(offset + BLOCK, offset + BLOCK + size);
    if (body.length < size) throw new ChartArchiveError(`${archive}: the archive ends inside a file; it is truncated`);
    offset += BLOCK + Math.ceil(size / BLOCK) * BLOCK;
    if (type === 'x') {
      longPath = paxPath(body);
      continue;
    }
    if (type === 'L') {
      longPath = body.toString('utf8').replace(/\0+$/, '');
      continue;
    }
    const prefix = field(header, 345, 155);
    const name = field(header, 0, 100);
    const path = longPath ?? (prefix ? `${prefix}/${name}` : name);
    longPath = undefined;
    if (type === '0' || type === '\0') yield { path, content: body };
  }
}

/** name, version and appVersion from the archive's top-level Chart.yaml. */
export function readChartMetadata(file: string, display = file): ChartMetadata {
  let tar: Buffer;
  try {
    tar = gunzipSync(readFileSync(file));
  } catch (error) {
    throw new ChartArchiveError(`${display}: not a gzip-compressed chart archive (${(error as Error).message})`);
  }
  for (const entry of tarFiles(tar, display)) {
    if (!/^[^/]+\/Chart\.yaml$/.test(entry.path)) continue;
    // failsafe: every scalar stays the string Chart.yaml has (version 1.10 is not the number 1.1).
    const chart = parse(entry.content.toString('utf8'), { schema: 'failsafe' }) as Record<string, unknown> | null;
    const name = chart?.name;
    const version = chart?.version;
    if (typeof name !== 'string' || typeof version !== 'string') {
      throw new ChartArchiveError(`${display}: ${entry.path} has no name or version string`);
    }
    const appVersion = chart?.appVersion;
    return { name, version, ...(typeof appVersion === 'string' ? { appVersion } : {}) };
  }
  throw new ChartArchiveError(`${display}: no <chart>/Chart.yaml at the top of the archive; it is not a packaged Helm chart`);
}
