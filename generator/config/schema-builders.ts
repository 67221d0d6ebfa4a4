/**
 * Small helpers over TypeBox so every field of the environment schema carries a
 * description and a default or an example (editors show both), and every object
 * rejects unknown fields.
 */
import { Type, type TObject, type TProperties, type TSchema, type SchemaOptions } from '@sinclair/typebox';

interface Doc {
  /** Shown by editors and quoted in error messages as "expected". */
  description: string;
  /** Filled in when the field is missing. */
  default?: unknown;
  /** An example value, for fields without a sensible default. */
  examples?: unknown[];
}

function assertDocumented(doc: Doc): void {
  if (doc.default === undefined && (doc.examples === undefined || doc.examples.length === 0)) {
    throw new Error(`schema field "${doc.description}" needs a default or an example`);
  }
}

/** A closed object: unknown fields are errors. */
export function obj<T extends TProperties>(properties: T, doc: Doc & SchemaOptions): TObject<T> {
  assertDocumented(doc);
  return Type.Object(properties, { ...doc, additionalProperties: false });
}

export function str(doc: Doc & { pattern?: string; minLength?: number; maxLength?: number; format?: string }) {
  assertDocumented(doc);
  return Type.String(doc);
}

export function int(doc: Doc & { minimum?: number; maximum?: number }) {
  assertDocumented(doc);
  return Type.Integer(doc);
}

export function num(doc: Doc & { minimum?: number; maximum?: number; multipleOf?: number }) {
  assertDocumented(doc);
  return Type.Number(doc);
}

export function bool(doc: Doc) {
  assertDocumented(doc);
  return Type.Boolean(doc);
}

export function oneOf<const V extends string[]>(values: [...V], doc: Doc) {
  assertDocumented(doc);
  return Type.Unsafe<V[number]>({ type: 'string', enum: values, ...doc });
}

export function list<T extends TSchema>(items: T, doc: Doc & { minItems?: number; maxItems?: number; uniqueItems?: boolean }) {
  assertDocumented(doc);
  return Type.Array(items, doc);
}

/** A field the file may leave out and that has no default (e.g. optional OIDC). */
export const optional = Type.Optional;
