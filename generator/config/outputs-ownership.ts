/**
 * The outputs an environment renders from must be its own: the stack, every
 * bucket (the Longhorn backup target is one of them) and the Aurora endpoint
 * are derived from the config with the same functions the bootstrap stack is
 * named with, so a copy of another environment's outputs file is refused
 * instead of pointing the new environment at the other one's AWS resources.
 */
import { BUCKET_PURPOSES, bucketName, stackName, WORKLOAD_IDENTITIES, workloadKeys, workloadRoleArn, type BucketKey, type WorkloadKey } from '../../bootstrap/names.js';
import type { ConfigIssue } from './errors.js';
import { formatPath } from './errors.js';
import type { BootstrapOutputs, EnvConfig } from './schema.js';
import type { YamlSource } from './yaml-source.js';

const OUTPUT_BUCKETS = ['attachments', 'longhornBackups', 'etcdSnapshots', 'kubeconfig'] as const satisfies readonly (keyof BootstrapOutputs['buckets'] & BucketKey)[];

const rdsDomain = (config: EnvConfig) => `.${config.aws.region}.rds.amazonaws.com`;

/** What `npm run env:new` writes until `npm run bootstrap` writes the real outputs: every name derived from the config. */
export function placeholderOutputs(config: EnvConfig): BootstrapOutputs {
  const stack = stackName(config);
  return {
    source: 'placeholder',
    stackName: stack,
    aurora: {
      endpoint: `${stack}.cluster-placeholder${rdsDomain(config)}`,
      port: 5432,
      masterUserSecretArn: `arn:aws:secretsmanager:${config.aws.region}:${config.aws.accountId}:secret:rds!cluster-placeholder-${config.name}`,
    },
    buckets: Object.fromEntries(OUTPUT_BUCKETS.map((key) => [key, bucketName(config, key)])) as BootstrapOutputs['buckets'],
    roles: placeholderRoles(config),
  };
}

/** The role ARNs: named by the stack (<stack>-<component>), so known before it exists. */
export function placeholderRoles(config: EnvConfig): BootstrapOutputs['roles'] {
  return Object.fromEntries(workloadKeys(config).map((key) => [key, workloadRoleArn(config, key)])) as BootstrapOutputs['roles'];
}

/** The environment a derived name such as dubai-dev or dubai-dev-attachments-… belongs to, when it is not `config`'s. */
function otherEnvironment(value: string, config: EnvConfig, suffix: string): string | undefined {
  const match = new RegExp(`^dubai-([a-z][a-z0-9-]*?)${suffix}$`).exec(value);
  return match && match[1] !== config.name ? match[1] : undefined;
}

export function checkOutputsBelong(outputs: BootstrapOutputs, source: YamlSource, config: EnvConfig): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const fix = (path: (string | number)[], value: string | undefined) =>
    outputs.source === 'placeholder' && value !== undefined
      ? `set ${formatPath(path)}: ${value}, the name derived from environments/${config.name}.yaml (\`npm run bootstrap -- --env ${config.name}\` later writes the real file)`
      : `re-run \`npm run bootstrap -- --env ${config.name}\` to rewrite this file from the environment's own stack`;
  const add = (path: (string | number)[], problem: string, expected: string, value?: string) =>
    issues.push({ file: source.file, path: formatPath(path), ...source.locate(path), problem, expected, fix: fix(path, value) });
  const whose = (value: string, suffix: string) => {
    const other = otherEnvironment(value, config, suffix);
    return other ? `environment ${other}'s` : `not environment ${config.name}'s`;
  };

  const stack = stackName(config);
  if (outputs.stackName !== stack) {
    add(['stackName'], `stack "${outputs.stackName}" is ${whose(outputs.stackName, '')}`, `the environment's own stack, ${stack}`, stack);
  }
  for (const key of OUTPUT_BUCKETS) {
    const wanted = bucketName(config, key);
    const actual = outputs.buckets[key];
    if (actual !== wanted) add(['buckets', key], `bucket "${actual}" is ${whose(actual, `-${BUCKET_PURPOSES[key]}-[0-9]{12}`)}`, `the bucket the stack creates for ${config.name}, ${wanted}`, wanted);
  }

  // Every role the stack creates for this environment, and no other: a pod must never assume another environment's role.
  const wantedRoles = placeholderRoles(config);
  for (const key of ['externalSecrets', 'longhorn', 'openWebUI', 'certManager'] as const satisfies readonly WorkloadKey[]) {
    const wanted = wantedRoles[key];
    const actual = outputs.roles[key];
    if (actual === wanted) continue;
    if (wanted === undefined) {
      add(['roles', key], `role "${actual}" is not created for ${config.name} (cert-manager gets a role only with a public ingress in a Route 53 zone)`, 'no such entry', undefined);
    } else if (actual === undefined) {
      add(['roles'], `no role for ${key}`, `roles.${key}: ${wanted}`, wanted);
    } else {
      add(['roles', key], `role "${actual}" is ${whose(actual.split('/').pop() ?? '', `-${WORKLOAD_IDENTITIES[key].role}`)}`, `the role the stack creates for ${config.name}'s ${key}, ${wanted}`, wanted);
    }
  }

  const endpoint = outputs.aurora.endpoint;
  const placeholder = placeholderOutputs(config).aurora.endpoint;
  if (!endpoint.endsWith(rdsDomain(config))) {
    add(['aurora', 'endpoint'], `Aurora endpoint "${endpoint}" is not in the environment's region ${config.aws.region}`, `an endpoint ending in ${rdsDomain(config)}`, placeholder);
  } else if (outputs.source === 'placeholder' && endpoint.split('.')[0] !== stack) {
    add(['aurora', 'endpoint'], `Aurora endpoint "${endpoint}" is ${whose(endpoint.split('.')[0]!, '')}`, `the placeholder of ${config.name}'s cluster, ${placeholder}`, placeholder);
  }
  return issues;
}
