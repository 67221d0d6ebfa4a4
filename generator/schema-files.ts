/** The JSON Schema files editors read, written from the TypeBox source of truth. */
import { envConfigSchema, outputsSchema } from './config/schema.js';
import { toJsonSchema } from './config/schema-check.js';

export const SCHEMA_FILES = {
  environment: 'environments/environment.schema.json',
  outputs: 'environments/outputs.schema.json',
} as const;

export function schemaFiles(): Map<string, string> {
  const text = (schema: Parameters<typeof toJsonSchema>[0]) => `${JSON.stringify({ $schema: 'http://json-schema.org/draft-07/schema#', ...toJsonSchema(schema) }, null, 2)}\n`;
  return new Map([
    [SCHEMA_FILES.environment, text(envConfigSchema)],
    [SCHEMA_FILES.outputs, text(outputsSchema)],
  ]);
}
