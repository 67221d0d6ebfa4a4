/**
 * Compiled validators are cached on disk; a cached validator must judge
 * exactly like a freshly compiled one, and a broken cache file is recompiled.
 */
import { Ajv } from 'ajv';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SchemaValidator } from '../generator/validate/schema-validator.js';
import { committedCrds, docsFrom, REPO_ROOT } from './helpers/validation.js';

const V136 = { short: '1.36', schemaVersion: 'v1.36.0' };
const crds = committedCrds('dev');
const CORPUS = join(REPO_ROOT, 'test', 'fixtures', 'schema-corpus');
const corpus = readdirSync(CORPUS)
  .filter((file) => file.endsWith('.yaml'))
  .map((file) => docsFrom(file, readFileSync(join(CORPUS, file), 'utf8'))[0]!.object);
const valid = ['rendered/dev/apps/application_argocd_open-webui.yaml', 'rendered/dev/open-webui/deployment_open-webui_open-webui.yaml'].map(
  (file) => docsFrom('valid.yaml', readFileSync(join(REPO_ROOT, file), 'utf8'))[0]!.object,
);

let dirs: string[] = [];
afterEach(() => {
  vi.restoreAllMocks();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  dirs = [];
});

function cacheDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'ajv-cache-'));
  dirs.push(dir);
  return dir;
}

describe('the compiled-validator cache', () => {
  it('gives the same verdicts as compiling afresh, and a second run compiles nothing', () => {
    const dir = cacheDir();
    const uncached = SchemaValidator.withCache(V136, undefined);
    const first = SchemaValidator.withCache(V136, dir);
    const expected = [...corpus, ...valid].map((manifest) => uncached.validate(manifest, crds));
    expect([...corpus, ...valid].map((manifest) => first.validate(manifest, crds))).toEqual(expected);
    expect(readdirSync(dir).filter((file) => file.endsWith('.cjs')).length).toBeGreaterThan(5);

    const compile = vi.spyOn(Ajv.prototype, 'compile');
    const second = SchemaValidator.withCache(V136, dir);
    expect([...corpus, ...valid].map((manifest) => second.validate(manifest, crds))).toEqual(expected);
    expect(compile).not.toHaveBeenCalled();
    expect(expected.slice(corpus.length)).toEqual([[], []]);
  }, 60_000);

  it('recompiles a cache file it cannot load', () => {
    const dir = cacheDir();
    const deployment = valid[1]!;
    SchemaValidator.withCache(V136, dir).validate(deployment, crds);
    for (const file of readdirSync(dir)) writeFileSync(join(dir, file), 'this is not javascript {');
    const compile = vi.spyOn(Ajv.prototype, 'compile');
    const broken = { ...deployment, spec: { ...(deployment.spec as object), replicas: 'three' } };
    expect(SchemaValidator.withCache(V136, dir).validate(broken, crds)).toEqual([{ path: ['spec', 'replicas'], message: 'must be integer' }]);
    expect(compile).toHaveBeenCalled();
  }, 60_000);
});
