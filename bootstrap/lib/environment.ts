/**
 * What the scripts know about an environment: its validated config (without
 * needing an outputs file, which bootstrap is about to write) and the
 * committed rendered/<env>/bootstrap/ files, which must match the sources.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import type { Parameter } from '@aws-sdk/client-cloudformation';
import { ConfigError } from '../../generator/config/errors.js';
import { listEnvironments } from '../../generator/config/load-environment.js';
import { envConfigSchema, type EnvConfig } from '../../generator/config/schema.js';
import { checkSchema } from '../../generator/config/schema-check.js';
import { checkEnvironment } from '../../generator/config/semantic-checks.js';
import { readYamlFile } from '../../generator/config/yaml-source.js';
import { BOOTSTRAP_FOLDER, REPLICA_TEMPLATE_FILE } from '../names.js';
import { renderStackFiles } from '../render.js';
import { BootstrapError } from './errors.js';

export function loadConfig(root: string, name: string): EnvConfig {
  const environmentsDir = join(root, 'environments');
  const known = existsSync(environmentsDir) ? listEnvironments(environmentsDir) : [];
  if (!known.includes(name)) {
    throw new BootstrapError(`unknown environment "${name}"`, `pass one of ${known.join(', ') || '(none found)'} (a file environments/<name>.yaml)`);
  }
  const source = readYamlFile(join(environmentsDir, `${name}.yaml`), `environments/${name}.yaml`);
  const issues = checkSchema(envConfigSchema, source);
  if (issues.length === 0) issues.push(...checkEnvironment(source.data as EnvConfig, source, name));
  const errors = issues.filter((issue) => issue.severity !== 'warning');
  if (errors.length > 0) throw new ConfigError(errors);
  return source.data as EnvConfig;
}

export interface RenderedStack {
  templateBody: string;
  parameters: Parameter[];
  /** The replica stack's template (rendered/<env>/bootstrap/replica.yaml), only with backups.replication. */
  replicaTemplateBody?: string;
}

/**
 * Reads the committed rendered/<env>/bootstrap/ files and refuses to deploy
 * them when they differ from what the sources render: what runs is what was
 * reviewed. The template goes to CloudFormation as JSON (same content).
 */
export function readRenderedStack(root: string, config: EnvConfig): RenderedStack {
  const expected = renderStackFiles(config);
  const stale: string[] = [];
  for (const [file, content] of expected) {
    const path = join(root, 'rendered', config.name, file);
    if (!existsSync(path) || readFileSync(path, 'utf8') !== content) stale.push(`rendered/${config.name}/${file}`);
  }
  if (stale.length > 0) {
    throw new BootstrapError(
      `${stale.join(' and ')} ${stale.length === 1 ? 'does' : 'do'} not match environments/${config.name}.yaml and bootstrap/`,
      `run \`npm run render -- --env ${config.name}\`, review and commit the change, then bootstrap`,
    );
  }
  const folder = join(root, 'rendered', config.name, BOOTSTRAP_FOLDER);
  const template = parse(readFileSync(join(folder, 'template.yaml'), 'utf8')) as unknown;
  const parameters = JSON.parse(readFileSync(join(folder, 'parameters.json'), 'utf8')) as Parameter[];
  const replicaFile = join(folder, REPLICA_TEMPLATE_FILE);
  const replica = expected.has(`${BOOTSTRAP_FOLDER}/${REPLICA_TEMPLATE_FILE}`) ? JSON.stringify(parse(readFileSync(replicaFile, 'utf8'))) : undefined;
  return { templateBody: JSON.stringify(template), parameters, ...(replica === undefined ? {} : { replicaTemplateBody: replica }) };
}
