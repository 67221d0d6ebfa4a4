/** The vendored Kubernetes schemas are complete for the supported versions, unchanged, and strict where it matters. */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, type Dirent } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SUPPORTED_KUBERNETES_MINORS } from '../generator/kubernetes-version.js';
import { hasKubernetesSchemas, SCHEMAS_DIR, strictify, withoutDescriptions } from '../generator/validate/schemas.js';

describe('schemas/', () => {
  it('holds the Kubernetes schemas of every supported minor and their licence, and no CRD schemas (those come from rendered/<env>/)', () => {
    for (const minor of SUPPORTED_KUBERNETES_MINORS) expect(hasKubernetesSchemas(`v1.${minor}.0`), `1.${minor}`).toBe(true);
    expect(readdirSync(SCHEMAS_DIR).sort()).toEqual(['README.md', 'kubernetes', 'licenses']);
    expect(readdirSync(join(SCHEMAS_DIR, 'licenses'))).toEqual(['cdk8s-team-cdk8s-LICENSE']);
  });

  it('matches the checksums recorded in schemas/README.md, which cover every vendored file (the files are vendored, never edited)', () => {
    const readme = readFileSync(join(SCHEMAS_DIR, 'README.md'), 'utf8');
    const entries = [...readme.matchAll(/^([0-9a-f]{64}) {2}(\S+)$/gm)];
    for (const [, sum, file] of entries) {
      expect(createHash('sha256').update(readFileSync(join(SCHEMAS_DIR, file!))).digest('hex'), file).toBe(sum);
    }
    const vendored = (readdirSync(SCHEMAS_DIR, { recursive: true, withFileTypes: true }) as Dirent[])
      .filter((entry) => entry.isFile() && entry.name !== 'README.md')
      .map((entry) => relative(SCHEMAS_DIR, join(entry.parentPath, entry.name)).split('\\').join('/'))
      .sort();
    expect(entries.map(([, , file]) => file).sort()).toEqual(vendored);
    expect(vendored.length).toBe(SUPPORTED_KUBERNETES_MINORS.length + 1);
  });
});

describe('strictify', () => {
  it('closes objects that list properties, and leaves open ones, maps and preserve-unknown-fields alone', () => {
    const schema = {
      definitions: {
        Thing: { type: 'object', properties: { spec: { type: 'object', properties: { size: { type: 'integer' } } }, labels: { type: 'object', additionalProperties: { type: 'string' } } } },
        Open: { type: 'object', properties: { x: { type: 'string' } }, 'x-kubernetes-preserve-unknown-fields': true },
        Free: { type: 'object' },
        Union: { anyOf: [{ type: 'object', properties: { a: { type: 'string' } } }] },
      },
    };
    const strict = strictify(schema);
    expect(strict.definitions.Thing).toMatchObject({ additionalProperties: false, properties: { spec: { additionalProperties: false } } });
    expect(strict.definitions.Thing.properties.labels).toEqual({ type: 'object', additionalProperties: { type: 'string' } });
    expect(strict.definitions.Open).not.toHaveProperty('additionalProperties');
    expect(strict.definitions.Free).not.toHaveProperty('additionalProperties');
    expect(strict.definitions.Union.anyOf[0]).toHaveProperty('additionalProperties', false);
    expect(schema.definitions.Thing).not.toHaveProperty('additionalProperties');
  });
});

describe('withoutDescriptions', () => {
  it('drops description keywords at every depth, and keeps fields named description and enum values', () => {
    const schema = {
      description: 'a thing',
      properties: {
        description: { type: 'string', description: 'the field called description' },
        mode: { type: 'string', enum: ['description'], description: 'one of' },
        list: { type: 'array', items: { description: 'an item', type: 'object', properties: { a: { type: 'string', description: 'a' } } } },
      },
    };
    expect(withoutDescriptions(schema)).toEqual({
      properties: {
        description: { type: 'string' },
        mode: { type: 'string', enum: ['description'] },
        list: { type: 'array', items: { type: 'object', properties: { a: { type: 'string' } } } },
      },
    });
    expect(schema.description).toBe('a thing');
  });
});
