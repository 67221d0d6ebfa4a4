/**
 * Validates parsed YAML against a config schema with ajv and turns ajv's
 * errors into people's errors (field path, what was expected, how to fix it).
 * Missing fields that have a default are filled in.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { TSchema } from '@sinclair/typebox';
import { formatPath, type ConfigIssue } from './errors.js';
import type { YamlSource } from './yaml-source.js';

type JsonSchema = Record<string, unknown>;

/**
 * The schema as JSON (what editors read and ajv compiles): a field that has a
 * default is not required, because the default fills it in.
 */
export function toJsonSchema(schema: TSchema): JsonSchema {
  const json = JSON.parse(JSON.stringify(schema)) as JsonSchema;
  relaxDefaulted(json);
  return json;
}

function relaxDefaulted(node: unknown): void {
  if (Array.isArray(node)) {
    node.forEach(relaxDefaulted);
    return;
  }
  if (node === null || typeof node !== 'object') return;
  const schema = node as JsonSchema;
  const properties = schema['properties'] as Record<string, JsonSchema> | undefined;
  if (properties && Array.isArray(schema['required'])) {
    const required = (schema['required'] as string[]).filter((name) => properties[name]?.['default'] === undefined);
    if (required.length > 0) schema['required'] = required;
    else delete schema['required'];
  }
  for (const [key, value] of Object.entries(schema)) {
    if (key !== 'default' && key !== 'examples') relaxDefaulted(value);
  }
}

const compiled = new WeakMap<TSchema, { validate: ValidateFunction; json: JsonSchema }>();

function compile(schema: TSchema): { validate: ValidateFunction; json: JsonSchema } {
  let entry = compiled.get(schema);
  if (!entry) {
    const json = toJsonSchema(schema);
    const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: true, allowUnionTypes: true });
    entry = { validate: ajv.compile(json), json };
    compiled.set(schema, entry);
  }
  return entry;
}

/** Validates (and fills defaults into) `source.data`; returns the problems found. */
export function checkSchema(schema: TSchema, source: YamlSource): ConfigIssue[] {
  const { validate, json } = compile(schema);
  if (validate(source.data)) return [];
  const issues = (validate.errors ?? []).map((error) => toIssue(error, source, json));
  // ajv reports each failing keyword; keep one message per field and problem.
  const seen = new Set<string>();
  return issues.filter((issue) => {
    const key = `${issue.path}\u0000${issue.problem}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

export function pointerToPath(pointer: string): (string | number)[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((part) => (/^[0-9]+$/.test(part) ? Number(part) : part));
}

function schemaAt(root: JsonSchema, schemaPath: string): JsonSchema | undefined {
  // "#/properties/litellm/properties/models/items/required" → the schema owning the keyword
  const parts = schemaPath.replace(/^#\//, '').split('/');
  parts.pop();
  let node: unknown = root;
  for (const part of parts) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[part.replace(/~1/g, '/').replace(/~0/g, '~')];
  }
  return node as JsonSchema | undefined;
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 37)}...` : value)}`;
  return `the ${typeof value} ${String(value)}`;
}

function valueAt(data: unknown, path: (string | number)[]): unknown {
  let node = data;
  for (const segment of path) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string | number, unknown>)[segment];
  }
  return node;
}

function exampleText(schema: JsonSchema | undefined): string {
  if (!schema) return '';
  const example = (schema['examples'] as unknown[] | undefined)?.[0] ?? schema['default'];
  return example === undefined || typeof example === 'object' ? '' : ` (for example ${JSON.stringify(example)})`;
}

/** Closest known name, so a typo gets a "did you mean". */
function closest(name: string, candidates: string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(name.length / 3)) + 1;
  for (const candidate of candidates) {
    const distance = editDistance(name.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const current = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
      previous = current;
    }
  }
  return row[b.length]!;
}

/** `2GB`, `512mb`, `1 G` → `2Gi`, `512Mi`, `1Gi`, when the field takes Kubernetes binary quantities. */
function binaryQuantity(value: unknown, pattern: string): string | undefined {
  if (typeof value !== 'string' || !pattern.includes('Gi')) return undefined;
  const match = /^([0-9]+)\s*([kmgt])(?:i?b|i)?$/i.exec(value.trim());
  if (!match) return undefined;
  const suggestion = `${match[1]}${match[2]!.toUpperCase()}i`;
  return new RegExp(pattern).test(suggestion) ? suggestion : undefined;
}

function toIssue(error: ErrorObject, source: YamlSource, root: JsonSchema): ConfigIssue {
  const path = pointerToPath(error.instancePath);
  const owner = schemaAt(root, error.schemaPath);
  const value = valueAt(source.data, path);
  const base = { file: source.file };
  const at = (segments: (string | number)[], key = false) => ({ ...base, ...source.locate(segments, key), path: formatPath(segments) });
  const description = owner?.['description'] as string | undefined;

  switch (error.keyword) {
    case 'additionalProperties': {
      const field = String(error.params['additionalProperty']);
      const properties = (owner?.['properties'] as Record<string, JsonSchema> | undefined) ?? {};
      const known = Object.keys(properties);
      // A key dedented out of the mapping it belongs to lands in the parent as an unknown field.
      const home = known.find((name) => (properties[name]?.['properties'] as Record<string, unknown> | undefined)?.[field] !== undefined);
      if (home) {
        return {
          ...at([...path, field], true),
          problem: `unknown field "${field}" here: it is mis-indented, "${field}" is a field of ${formatPath([...path, home])}`,
          expected: `one of: ${known.join(', ')}`,
          fix: `indent "${field}" under "${home}:" like the other keys of ${formatPath([...path, home])}`,
        };
      }
      const suggestion = closest(field, known);
      return {
        ...at([...path, field], true),
        problem: `unknown field "${field}"`,
        expected: `one of: ${known.join(', ')}`,
        fix: suggestion ? `did you mean "${suggestion}"? Rename the field.` : 'remove the field (the schema is closed so typos cannot pass silently)',
      };
    }
    case 'required': {
      const field = String(error.params['missingProperty']);
      const fieldSchema = (owner?.['properties'] as Record<string, JsonSchema> | undefined)?.[field];
      return {
        ...at(path),
        path: formatPath([...path, field]),
        problem: `required field "${field}" is missing`,
        expected: `${(fieldSchema?.['description'] as string | undefined) ?? field}${exampleText(fieldSchema)}`,
        fix: `add "${field}:" under ${path.length === 0 ? 'the top level' : formatPath(path)}`,
      };
    }
    case 'type': {
      const expectedType = String(error.params['type']);
      const quoteHint = expectedType === 'string' && (typeof value === 'number' || typeof value === 'boolean');
      return {
        ...at(path),
        problem: `expected ${expectedType}, got ${describeValue(value)}`,
        expected: `${description ?? expectedType}${exampleText(owner)}`,
        // The text as written: 012345678901 parses to 12345678901, and the zero must stay.
        fix: quoteHint ? `quote the value so YAML keeps it a string: "${source.sourceText(path) ?? String(value)}"` : `write ${expectedType === 'object' ? 'a mapping' : expectedType === 'array' ? 'a list' : `a ${expectedType}`} here`,
      };
    }
    case 'enum': {
      const allowed = (error.params['allowedValues'] as unknown[]).map((item) => JSON.stringify(item)).join(', ');
      return { ...at(path), problem: `${describeValue(value)} is not allowed`, expected: `one of ${allowed}`, fix: `use one of ${allowed}` };
    }
    case 'pattern':
    case 'format': {
      const quantity = error.keyword === 'pattern' ? binaryQuantity(value, String(error.params['pattern'])) : undefined;
      return {
        ...at(path),
        problem: `${describeValue(value)} has the wrong form`,
        expected: `${description ?? 'a value of the right form'}${exampleText(owner)}`,
        fix: quantity
          ? `did you mean "${quantity}"? Kubernetes writes memory in binary units: Ki, Mi, Gi, Ti`
          : `change the value to match ${error.keyword === 'pattern' ? `the pattern ${String(error.params['pattern'])}` : `the ${String(error.params['format'])} format`}`,
      };
    }
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
    case 'multipleOf': {
      const limit = error.params['limit'] ?? error.params['multipleOf'];
      const relation = { minimum: '>=', maximum: '<=', exclusiveMinimum: '>', exclusiveMaximum: '<', multipleOf: 'a multiple of' }[error.keyword];
      return {
        ...at(path),
        problem: `${String(value)} is out of range`,
        expected: `a number ${relation} ${String(limit)}: ${description ?? ''}`.trim(),
        fix: `set a value ${relation} ${String(limit)}`,
      };
    }
    case 'minItems':
    case 'maxItems':
    case 'minLength':
    case 'maxLength': {
      const limit = Number(error.params['limit']);
      const unit = error.keyword.endsWith('Items') ? 'items' : 'characters';
      const relation = error.keyword.startsWith('min') ? 'at least' : 'at most';
      return {
        ...at(path),
        problem: `has the wrong size (${relation} ${limit} ${unit} allowed)`,
        expected: `${relation} ${limit} ${unit}: ${description ?? ''}`.trim(),
        fix: `${error.keyword.startsWith('min') ? 'add' : 'remove'} ${unit}`,
      };
    }
    case 'uniqueItems':
      return { ...at(path), problem: 'holds the same item twice', expected: description ?? 'unique items', fix: 'remove the duplicate' };
    default:
      return { ...at(path), problem: error.message ?? error.keyword, expected: description, fix: 'see the schema in environments/environment.schema.json' };
  }
}
