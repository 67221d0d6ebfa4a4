/**
 * Loads one environment: environments/<env>.yaml and
 * environments/<env>.outputs.yaml, schema-checked, defaults filled in, and
 * semantically checked. Throws a ConfigError listing every problem found.
 */
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ConfigError, type ConfigIssue } from './errors.js';
import { envConfigSchema, outputsSchema, type BootstrapOutputs, type EnvConfig } from './schema.js';
import { checkSchema } from './schema-check.js';
import { checkOutputsBelong } from './outputs-ownership.js';
import { checkEnvironment, checkOutputs } from './semantic-checks.js';
import { readYamlFile } from './yaml-source.js';

export interface Environment {
  config: EnvConfig;
  outputs: BootstrapOutputs;
  /** Risks the semantic checks name without refusing the environment (printed by the render). */
  warnings?: ConfigIssue[];
}

const ENV_FILE = /^([a-z][a-z0-9-]{1,15})\.yaml$/;

/** Names of the environments defined under `environmentsDir` (sorted). */
export function listEnvironments(environmentsDir: string): string[] {
  return readdirSync(environmentsDir)
    .map((file) => ENV_FILE.exec(file)?.[1])
    .filter((name): name is string => name !== undefined && !name.endsWith('.outputs'))
    .sort();
}

export function loadEnvironment(rootDir: string, name: string, environmentsDir = join(rootDir, 'environments')): Environment {
  const configPath = join(environmentsDir, `${name}.yaml`);
  const outputsPath = join(environmentsDir, `${name}.outputs.yaml`);
  const display = (path: string) => relative(rootDir, path) || path;

  const issues: ConfigIssue[] = [];
  const configSource = readYamlFile(configPath, display(configPath));
  issues.push(...checkSchema(envConfigSchema, configSource));
  if (issues.length === 0) {
    issues.push(...checkEnvironment(configSource.data as EnvConfig, configSource, name));
  }

  let outputs: BootstrapOutputs | undefined;
  try {
    const outputsSource = readYamlFile(outputsPath, display(outputsPath));
    const outputIssues = checkSchema(outputsSchema, outputsSource);
    if (outputIssues.length === 0 && issues.every((issue) => issue.severity === 'warning')) {
      const [outputsData, config] = [outputsSource.data as BootstrapOutputs, configSource.data as EnvConfig];
      outputIssues.push(...checkOutputs(outputsData, outputsSource, config), ...checkOutputsBelong(outputsData, outputsSource, config));
    }
    issues.push(...outputIssues);
    outputs = outputsSource.data as BootstrapOutputs;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    issues.push(
      ...error.issues.map((issue) =>
        issue.problem === 'the file does not exist'
          ? { ...issue, fix: `write placeholders whose names are derived from environments/${name}.yaml (source: placeholder; \`npm run env:new\` writes them for a new environment, and the render names every field that differs); \`npm run bootstrap -- --env ${name}\` later writes the real file` }
          : issue,
      ),
    );
  }

  const warnings = issues.filter((issue) => issue.severity === 'warning');
  const errors = issues.filter((issue) => issue.severity !== 'warning');
  if (errors.length > 0 || !outputs) throw new ConfigError(errors);
  return { config: configSource.data as EnvConfig, outputs, ...(warnings.length > 0 ? { warnings } : {}) };
}

/**
 * Fills in the line and column of issues found after loading (e.g. the
 * capacity check of a render), which know their file and field path only.
 */
export function locateIssues(rootDir: string, issues: ConfigIssue[]): ConfigIssue[] {
  const sources = new Map<string, ReturnType<typeof readYamlFile> | undefined>();
  return issues.map((issue) => {
    if (issue.line !== undefined || issue.path === '') return issue;
    if (!sources.has(issue.file)) {
      try {
        sources.set(issue.file, readYamlFile(join(rootDir, issue.file), issue.file));
      } catch {
        sources.set(issue.file, undefined);
      }
    }
    const path = issue.path.split(/\.|\[(\d+)\]/).filter((part) => part !== undefined && part !== '').map((part) => (/^\d+$/.test(part) ? Number(part) : part));
    const at = sources.get(issue.file)?.locate(path);
    return at ? { ...issue, ...at } : issue;
  });
}
