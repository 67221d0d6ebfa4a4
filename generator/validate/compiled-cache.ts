/**
 * Keeps compiled schema validators on disk (ajv standalone code in the
 * git-ignored .tools/cache/ajv/), so a kind is compiled once per machine
 * rather than once per run: the Argo CD Application schema alone takes
 * hundreds of milliseconds to compile and a few to load. The key hashes the
 * schema file, the definition, the ajv version and the options, so any change
 * to them compiles afresh; a broken cache file is recompiled, never trusted.
 */
import { _, type Ajv, type ValidateFunction } from 'ajv';
import standaloneCode from 'ajv/dist/standalone/index.js';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { REPO_ROOT } from './schemas.js';

/** Bump when the ajv options or the format set change. */
const CACHE_FORMAT = '1';
const requireFromRepository = createRequire(join(REPO_ROOT, 'package.json'));
const AJV_VERSION = (requireFromRepository('ajv/package.json') as { version: string }).version;

/** What generated code uses for the formats ajv-formats provides (see schema-validator.ts). */
export const STANDALONE_FORMATS = _`require("ajv-formats/dist/formats").fullFormats`;

const fileHashes = new Map<string, string>();

export function fileHash(path: string): string {
  let hash = fileHashes.get(path);
  if (!hash) {
    hash = createHash('sha256').update(readFileSync(path)).digest('hex');
    fileHashes.set(path, hash);
  }
  return hash;
}

export class CompiledCache {
  constructor(readonly dir: string | undefined) {}

  key(...parts: string[]): string {
    // The ajv location is part of the key: cached code requires ajv's runtime by absolute path.
    return createHash('sha256').update([CACHE_FORMAT, AJV_VERSION, requireFromRepository.resolve('ajv'), ...parts].join('\n')).digest('hex').slice(0, 24);
  }

  /** The cached validator for `key`, or the one `compile` makes (then stored). */
  get(key: string, compile: () => { ajv: Ajv; validate: ValidateFunction }): ValidateFunction {
    const file = this.dir ? join(this.dir, `${key}.cjs`) : undefined;
    if (file) {
      try {
        const loaded = requireFromRepository(file) as unknown;
        if (typeof loaded === 'function') return loaded as ValidateFunction;
      } catch {
        // missing or unreadable: compile below
      }
    }
    const { ajv, validate } = compile();
    if (file && this.dir) {
      try {
        const generate = ((standaloneCode as unknown as { default?: unknown }).default ?? standaloneCode) as (ajv: Ajv, validate: ValidateFunction) => string;
        mkdirSync(this.dir, { recursive: true });
        const staging = `${file}.${process.pid}.tmp`;
        // Resolve ajv's runtime modules now, so the file loads from any folder.
        const code = generate(ajv, validate).replace(/require\("([^"]+)"\)/g, (_match, specifier: string) => `require(${JSON.stringify(requireFromRepository.resolve(specifier))})`);
        writeFileSync(staging, code);
        renameSync(staging, file);
      } catch {
        rmSync(`${file}.${process.pid}.tmp`, { force: true });
      }
    }
    return validate;
  }
}
