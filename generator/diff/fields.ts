/**
 * What changed inside one resource: the leaf fields that differ between two
 * versions (with short renderings of their values), and for a
 * CustomResourceDefinition which fields of its custom resources the schema
 * change touches, so a review never needs the schema text itself.
 */

export type Segment = string | number;

export interface FieldChange {
  /** `spec.template.spec.containers[0].image` */
  path: string;
  segments: Segment[];
  /** Short rendering of the old value; absent when the field was added. */
  before?: string;
  /** Short rendering of the new value; absent when the field was removed. */
  after?: string;
}

/** Longest value rendering kept (the rest is cut with `…`). */
export const VALUE_CHARS = 80;

export function pathOf(segments: Segment[]): string {
  let out = '';
  for (const segment of segments) out = typeof segment === 'number' ? `${out}[${segment}]` : out ? `${out}.${segment}` : segment;
  return out || '(whole document)';
}

/** A value as one short line: scalars as they read in YAML, objects and lists by size. */
export function shortValue(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  let text: string;
  if (Array.isArray(value)) text = `[${value.length} item${value.length === 1 ? '' : 's'}]`;
  else if (value !== null && typeof value === 'object') {
    const keys = Object.keys(value).length;
    text = `{${keys} key${keys === 1 ? '' : 's'}}`;
  } else if (typeof value === 'string') text = JSON.stringify(value).slice(1, -1);
  else text = String(value);
  return text.length > VALUE_CHARS ? `${text.slice(0, VALUE_CHARS - 1)}…` : text;
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** The leaves that differ between two values, in document order. */
export function diffValues(a: unknown, b: unknown): FieldChange[] {
  const out: FieldChange[] = [];
  const walk = (x: unknown, y: unknown, segments: Segment[]) => {
    if (JSON.stringify(x) === JSON.stringify(y)) return;
    if (Array.isArray(x) && Array.isArray(y)) {
      for (let i = 0; i < Math.max(x.length, y.length); i++) walk(x[i], y[i], [...segments, i]);
    } else if (isObject(x) && isObject(y)) {
      for (const key of new Set([...Object.keys(x), ...Object.keys(y)])) walk(x[key], y[key], [...segments, key]);
    } else {
      const before = shortValue(x);
      const after = shortValue(y);
      out.push({ path: pathOf(segments), segments, ...(before === undefined ? {} : { before }), ...(after === undefined ? {} : { after }) });
    }
  };
  walk(a, b, []);
  return out;
}

/** Field changes between two JSON documents; none when either does not parse. */
export function fieldChanges(before: string, after: string): FieldChange[] {
  try {
    return diffValues(JSON.parse(before), JSON.parse(after));
  } catch {
    return [];
  }
}

/** What part of a CRD a field belongs to: its served schema, its metadata, or another spec field. */
export function crdArea(segments: Segment[]): string {
  if (segments[0] === 'spec' && segments[1] === 'versions' && typeof segments[2] === 'number' && segments[3] === 'schema') return 'schema';
  if (segments[0] === 'metadata') return 'metadata';
  return segments.filter((segment) => typeof segment === 'string').slice(0, 2).join('.');
}

export interface SchemaFieldChange {
  /** The CRD version whose schema changed (`v1alpha1`). */
  version: string;
  /** The field of the custom resource (`spec.generators[].plugin`), `(root)` for the top. */
  field: string;
  change: 'added' | 'removed' | 'changed';
  /** For `changed`: the schema keywords that differ (`description`, `type`, `enum`). */
  keywords: string[];
}

/**
 * The custom-resource fields a CRD schema change touches: walks
 * `properties.X` / `items` / `additionalProperties` under openAPIV3Schema and
 * names the field; the rest of the path is the schema keyword that changed.
 */
export function schemaFieldChanges(changes: FieldChange[], versionName: (index: number) => string): SchemaFieldChange[] {
  const out: SchemaFieldChange[] = [];
  const byKey = new Map<string, SchemaFieldChange>();
  for (const change of changes) {
    if (crdArea(change.segments) !== 'schema') continue;
    const rest = change.segments.slice(4);
    if (rest[0] !== 'openAPIV3Schema') continue;
    let field = '';
    let i = 1;
    let kind: SchemaFieldChange['change'] = 'changed';
    for (; i < rest.length; i++) {
      const segment = rest[i];
      if (segment === 'properties' && typeof rest[i + 1] === 'string') {
        field = field ? `${field}.${rest[i + 1] as string}` : (rest[i + 1] as string);
        i++;
      } else if (segment === 'items') field = `${field}[]`;
      else if (segment === 'additionalProperties') field = `${field}.*`;
      else break;
    }
    const keyword = rest.slice(i).filter((segment) => typeof segment === 'string')[0] as string | undefined;
    if (keyword === undefined) kind = change.before === undefined ? 'added' : change.after === undefined ? 'removed' : 'changed';
    const version = versionName(change.segments[2] as number);
    const key = `${version}\0${field}`;
    const existing = byKey.get(key);
    if (existing) {
      if (keyword !== undefined && !existing.keywords.includes(keyword)) existing.keywords.push(keyword);
      continue;
    }
    const entry: SchemaFieldChange = { version, field: field || '(root)', change: kind, keywords: keyword === undefined ? [] : [keyword] };
    byKey.set(key, entry);
    out.push(entry);
  }
  return out;
}
