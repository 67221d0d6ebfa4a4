import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, expectTypeOf, it } from 'vitest';
import type { EnvConfig } from '../generator/config/schema.js';
import { schemaFiles, SCHEMA_FILES } from '../generator/schema-files.js';
import { REPO_ROOT } from './support/temp-repo.js';

type Json = Record<string, any>;

/** Every property schema with its path. */
function properties(schema: Json, path = ''): [string, Json][] {
  const out: [string, Json][] = [];
  for (const [name, child] of Object.entries((schema['properties'] as Record<string, Json> | undefined) ?? {})) {
    out.push([`${path}${name}`, child], ...properties(child, `${path}${name}.`));
    if (child['items']) out.push(...properties(child['items'], `${path}${name}[].`));
  }
  return out;
}

function objects(schema: Json, path = '(root)'): [string, Json][] {
  const out: [string, Json][] = schema['type'] === 'object' ? [[path, schema]] : [];
  for (const [name, child] of Object.entries((schema['properties'] as Record<string, Json> | undefined) ?? {})) out.push(...objects(child, name));
  if (schema['items']) out.push(...objects(schema['items'], `${path}[]`));
  return out;
}

describe.each(Object.entries(SCHEMA_FILES))('the %s schema file', (_name, file) => {
  const committed = JSON.parse(readFileSync(join(REPO_ROOT, file), 'utf8')) as Json;

  it('is exactly what the TypeBox source produces', () => {
    expect(readFileSync(join(REPO_ROOT, file), 'utf8')).toBe(schemaFiles().get(file));
  });

  it('documents every field with a description and a default or an example', () => {
    for (const [path, schema] of properties(committed)) {
      expect(schema['description'], path).toMatch(/\S/);
      expect(schema['default'] !== undefined || (schema['examples'] as unknown[] | undefined)?.length, `${path} needs a default or an example`).toBeTruthy();
    }
  });

  it('rejects unknown fields in every object', () => {
    for (const [path, schema] of objects(committed)) expect(schema['additionalProperties'], path).toBe(false);
  });
});

describe('the EnvConfig type', () => {
  it('is derived from the schema', () => {
    expectTypeOf<EnvConfig['tier']>().toEqualTypeOf<'development' | 'staging' | 'production'>();
    expectTypeOf<EnvConfig['openWebUI']['replicas']>().toEqualTypeOf<number>();
    expectTypeOf<EnvConfig['openWebUI']['oidc']>().toEqualTypeOf<
      { providerName: string; providerUrl: string; clientId: string; clientSecret: string; signup: boolean } | undefined
    >();
  });
});
