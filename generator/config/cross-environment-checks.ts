/**
 * Rules across environments: what one environment owns must not be claimed by
 * another. Hostnames on one tailnet, Secrets Manager prefixes, stack names and
 * buckets, and VPC ranges in one account and region. Each problem is reported
 * on the later file (by name) and names the earlier one, line and column.
 */
import { existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ConfigError, formatPath, type ConfigIssue } from './errors.js';
import { envConfigSchema, outputsSchema, type BootstrapOutputs, type EnvConfig } from './schema.js';
import { checkSchema } from './schema-check.js';
import { cidrRange, rangesOverlap } from './semantic-checks.js';
import { readYamlFile, type YamlSource } from './yaml-source.js';

type Path = (string | number)[];

export interface EnvironmentSources {
  name: string;
  config: EnvConfig;
  configSource: YamlSource;
  outputs?: BootstrapOutputs;
  outputsSource?: YamlSource;
}

/** Schema-valid YAML of a file, or undefined (its own problems are reported by loadEnvironment). */
function readValid(rootDir: string, path: string, schema: typeof envConfigSchema | typeof outputsSchema): YamlSource | undefined {
  if (!existsSync(path)) return undefined;
  try {
    const source = readYamlFile(path, relative(rootDir, path) || path);
    return checkSchema(schema, source).length === 0 ? source : undefined;
  } catch (error) {
    if (error instanceof ConfigError) return undefined;
    throw error;
  }
}

/** The environments under rootDir/environments whose config passes the schema, with their outputs when those pass too. */
export function readEnvironmentSources(rootDir: string, names: readonly string[]): EnvironmentSources[] {
  const sources: EnvironmentSources[] = [];
  for (const name of [...names].sort()) {
    const configSource = readValid(rootDir, join(rootDir, 'environments', `${name}.yaml`), envConfigSchema);
    if (!configSource) continue;
    const outputsSource = readValid(rootDir, join(rootDir, 'environments', `${name}.outputs.yaml`), outputsSchema);
    sources.push({
      name,
      config: configSource.data as EnvConfig,
      configSource,
      ...(outputsSource ? { outputs: outputsSource.data as BootstrapOutputs, outputsSource } : {}),
    });
  }
  return sources;
}

/** A value one environment claims and where it is written; claims collide only within one scope (a tailnet, an account and region). */
interface Claim {
  env: string;
  source: YamlSource;
  path: Path;
  value: string;
  scope: string;
}

function where(claim: Claim): string {
  const at = claim.source.locate(claim.path);
  return `${claim.source.file}${at ? `:${at.line}:${at.column}` : ''} (${formatPath(claim.path)})`;
}

interface Rule {
  /** What is claimed, for the message: "hostname", "Secrets Manager prefix". */
  what: string;
  claims(env: EnvironmentSources): Claim[];
  collides(a: Claim, b: Claim): boolean;
  /** What each environment needs instead, and how to get there. */
  expected: string;
  fix(claim: Claim): string;
}

const claim = (env: EnvironmentSources, source: YamlSource, path: Path, value: string, scope = ''): Claim => ({ env: env.name, source, path, value, scope });

function hostnameClaims(env: EnvironmentSources): Claim[] {
  const tailnet = env.config.hostnames.tailnetDomain;
  return (['openWebUI', 'argocd', 'node'] as const).map((key) => claim(env, env.configSource, ['hostnames', key], `${env.config.hostnames[key]}.${tailnet}`, tailnet));
}

function outputClaims(env: EnvironmentSources): Claim[] {
  if (!env.outputs || !env.outputsSource) return [];
  const buckets = Object.entries(env.outputs.buckets).map(([key, bucket]) => claim(env, env.outputsSource!, ['buckets', key], bucket));
  return [claim(env, env.outputsSource, ['stackName'], env.outputs.stackName), ...buckets];
}

function networkClaims(env: EnvironmentSources): Claim[] {
  return [claim(env, env.configSource, ['network', 'vpcCidr'], env.config.network.vpcCidr, `${env.config.aws.accountId}/${env.config.aws.region}`)];
}

function overlapping(a: Claim, b: Claim): boolean {
  const ra = cidrRange(a.value);
  const rb = cidrRange(b.value);
  return ra !== undefined && rb !== undefined && rangesOverlap(ra, rb);
}

export const CROSS_ENVIRONMENT_RULES: readonly Rule[] = [
  {
    what: 'tailnet hostname',
    claims: hostnameClaims,
    collides: (a, b) => a.value === b.value,
    expected: 'a machine name used by one environment only on a tailnet, e.g. chat-<env>',
    fix: (c) => `rename ${formatPath(c.path)} to a name of ${c.env}'s own, e.g. ${c.value.split('.')[0]!.replace(/-[a-z0-9]+$/, '')}-${c.env}`,
  },
  {
    what: 'Secrets Manager prefix',
    claims: (env) => [claim(env, env.configSource, ['secretsManager', 'prefix'], env.config.secretsManager.prefix)],
    collides: (a, b) => a.value.startsWith(b.value) || b.value.startsWith(a.value),
    expected: 'a prefix no other environment shares or nests in, dubai/<env>/',
    fix: (c) => `set secretsManager.prefix: dubai/${c.env}/`,
  },
  {
    what: 'stack output',
    claims: outputClaims,
    collides: (a, b) => a.value === b.value,
    expected: "the environment's own stack and buckets (dubai-<env>, dubai-<env>-<purpose>-<account>)",
    fix: (c) => `re-run \`npm run env:new\` for a new environment or \`npm run bootstrap -- --env ${c.env}\` to write ${c.env}'s own outputs`,
  },
  {
    what: 'VPC range in the same AWS account and region',
    claims: networkClaims,
    collides: overlapping,
    expected: 'VPC ranges that do not overlap within one account and region (peering and routes need distinct ranges)',
    fix: (c) => `choose another network.vpcCidr for ${c.env} (and its subnets), e.g. the next free 10.x.0.0/16`,
  },
];

/** Every collision between two environments, reported on the later one. */
export function checkAcrossEnvironments(environments: readonly EnvironmentSources[]): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  for (const rule of CROSS_ENVIRONMENT_RULES) {
    const seen: Claim[] = [];
    for (const env of environments) {
      const claims = rule.claims(env);
      for (const current of claims) {
        const earlier = seen.find((other) => other.scope === current.scope && rule.collides(other, current));
        if (earlier) {
          issues.push({
            file: current.source.file,
            path: formatPath(current.path),
            ...current.source.locate(current.path),
            problem: `${rule.what} "${current.value}" collides with "${earlier.value}" of environment ${earlier.env} at ${where(earlier)}`,
            expected: rule.expected,
            fix: rule.fix(current),
          });
        }
      }
      seen.push(...claims);
    }
  }
  return issues;
}
