/**
 * What a rendered change needs besides Argo CD: `npm run bootstrap` when the
 * CloudFormation template or parameters of an environment change, the
 * `npm run secrets -- set` of every hand-set secret the change adds, and
 * whether CloudFormation restarts or replaces the node to apply it.
 */
import { parse } from 'yaml';
import { BOOTSTRAP_FOLDER, PARAMETERS_FILE, STACK_FILES, TEMPLATE_FILE } from '../../bootstrap/names.js';
import type { Tree } from '../write-rendered.js';

type Json = Record<string, unknown>;

/**
 * AWS::EC2::Instance properties by CloudFormation's update behaviour. Those
 * named here change the instance with no interruption or replace it; any
 * other property (UserData, InstanceType, EbsOptimized, one not listed) is
 * taken to stop and start it.
 */
const NO_INTERRUPTION = new Set(['Tags', 'Monitoring', 'DisableApiTermination', 'SecurityGroupIds', 'SourceDestCheck', 'IamInstanceProfile', 'Volumes', 'PropagateTagsToVolumeOnCreation', 'InstanceInitiatedShutdownBehavior']);
const REPLACEMENT = new Set([
  'ImageId', 'AvailabilityZone', 'SubnetId', 'KeyName', 'NetworkInterfaces', 'PrivateIpAddress', 'SecurityGroups', 'LaunchTemplate', 'PlacementGroupName',
  'CpuOptions', 'HibernationOptions', 'EnclaveOptions', 'Ipv6AddressCount', 'Ipv6Addresses', 'LicenseSpecifications', 'ElasticGpuSpecifications',
  'ElasticInferenceAccelerators', 'HostResourceGroupArn', 'BlockDeviceMappings',
]);

/** `rolls`: the agents' launch template changes, so the Auto Scaling group replaces the agents one at a time. */
export type NodeEffect = 'replaces' | 'restarts' | 'rolls';

export interface NodeChange {
  /** Logical id of the EC2 instance (or of the agents' launch template). */
  instance: string;
  effect: NodeEffect;
  /** The stack has several servers: a replaced one joins the others instead of starting a new cluster. */
  clustered?: boolean;
  /** Properties whose (parameter-resolved) value changes. */
  properties: string[];
}

export interface BootstrapNotice {
  env: string;
  /** The exact command to run. */
  command: string;
  /** Stack files that changed, relative to rendered/. */
  files: string[];
  /** The stack does not exist yet (a new environment). */
  creates: boolean;
  node: NodeChange[];
  /** `npm run secrets -- set ...` for every hand-set secret the change adds. */
  secretCommands: string[];
}

interface Stack {
  resources: Record<string, Json>;
  parameters: Record<string, string>;
  secretsPrefix: string;
}

function readStack(tree: Tree): Stack | undefined {
  const template = tree.get(`${BOOTSTRAP_FOLDER}/${TEMPLATE_FILE}`);
  if (template === undefined) return undefined;
  const parsed = (parse(template) ?? {}) as { Resources?: Record<string, Json>; Parameters?: Record<string, { Default?: unknown }>; Outputs?: Record<string, { Value?: unknown }> };
  const parameters: Record<string, string> = {};
  for (const [key, definition] of Object.entries(parsed.Parameters ?? {})) if (definition.Default !== undefined) parameters[key] = String(definition.Default);
  const parametersFile = tree.get(`${BOOTSTRAP_FOLDER}/${PARAMETERS_FILE}`);
  for (const entry of parametersFile ? (JSON.parse(parametersFile) as { ParameterKey: string; ParameterValue: string }[]) : []) parameters[entry.ParameterKey] = entry.ParameterValue;
  const prefix = parsed.Outputs?.['SecretsPrefix']?.Value;
  return { resources: parsed.Resources ?? {}, parameters, secretsPrefix: typeof prefix === 'string' ? prefix : '' };
}

/** A property value with every `Ref` to a parameter replaced by the parameter's value. */
function resolved(value: unknown, parameters: Record<string, string>): unknown {
  if (Array.isArray(value)) return value.map((item) => resolved(item, parameters));
  if (value && typeof value === 'object') {
    const object = value as Json;
    const ref = object['Ref'];
    if (Object.keys(object).length === 1 && typeof ref === 'string' && ref in parameters) return parameters[ref];
    return Object.fromEntries(Object.entries(object).map(([key, item]) => [key, resolved(item, parameters)]));
  }
  return value;
}

const ofType = (stack: Stack, type: string) => Object.entries(stack.resources).filter(([, resource]) => resource['Type'] === type);

const changedKeys = (a: Json, b: Json, before: Stack, after: Stack) =>
  [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((key) => JSON.stringify(resolved(a[key], before.parameters)) !== JSON.stringify(resolved(b[key], after.parameters))).sort();

export function nodeChanges(before: Stack, after: Stack): NodeChange[] {
  const out: NodeChange[] = [];
  const clustered = ofType(after, 'AWS::EC2::Instance').length > 1;
  for (const [id, resource] of ofType(after, 'AWS::EC2::LaunchTemplate')) {
    const old = before.resources[id];
    if (old === undefined) continue;
    const data = (r: Json) => (((r['Properties'] ?? {}) as Json)['LaunchTemplateData'] ?? {}) as Json;
    const changed = changedKeys(data(old), data(resource), before, after).filter((key) => key !== 'TagSpecifications');
    if (changed.length > 0) out.push({ instance: id, effect: 'rolls', properties: changed });
  }
  for (const [id, resource] of ofType(after, 'AWS::EC2::Instance')) {
    const old = before.resources[id];
    if (old === undefined || old['Type'] !== 'AWS::EC2::Instance') continue;
    const a = (old['Properties'] ?? {}) as Json;
    const b = (resource['Properties'] ?? {}) as Json;
    const changed = [...new Set([...Object.keys(a), ...Object.keys(b)])]
      .filter((key) => JSON.stringify(resolved(a[key], before.parameters)) !== JSON.stringify(resolved(b[key], after.parameters)))
      .filter((key) => !NO_INTERRUPTION.has(key))
      .sort();
    if (changed.length === 0) continue;
    out.push({ instance: id, effect: changed.some((key) => REPLACEMENT.has(key)) ? 'replaces' : 'restarts', properties: changed, ...(clustered ? { clustered } : {}) });
  }
  return out;
}

/** Hand-set secrets: Secrets Manager secrets the stack creates empty (no generated or literal value). */
function addedEmptySecrets(before: Stack | undefined, after: Stack): string[] {
  return ofType(after, 'AWS::SecretsManager::Secret')
    .filter(([id]) => before?.resources[id] === undefined)
    .map(([, resource]) => (resource['Properties'] ?? {}) as Json)
    .filter((properties) => properties['SecretString'] === undefined && properties['GenerateSecretString'] === undefined)
    .map((properties) => String(properties['Name']))
    .map((name) => (after.secretsPrefix && name.startsWith(after.secretsPrefix) ? name.slice(after.secretsPrefix.length) : name))
    .sort();
}

/** The notice for one environment, or undefined when its stack files did not change (or it was removed). */
export function bootstrapNotice(env: string, before: Tree, after: Tree): BootstrapNotice | undefined {
  const files = STACK_FILES.map((file) => `${BOOTSTRAP_FOLDER}/${file}`).filter((file) => before.get(file) !== after.get(file));
  const next = readStack(after);
  if (files.length === 0 || next === undefined) return undefined;
  const previous = readStack(before);
  return {
    env,
    command: `npm run bootstrap -- --env ${env}`,
    files: files.map((file) => `rendered/${env}/${file}`),
    creates: previous === undefined,
    node: previous === undefined ? [] : nodeChanges(previous, next),
    secretCommands: addedEmptySecrets(previous, next).map((reference) => `npm run secrets -- set --env ${env} ${reference}`),
  };
}

const EFFECT_TEXT: Record<NodeEffect, string> = {
  restarts: 'RESTARTS THE NODE (CloudFormation stops and starts the instance)',
  replaces: 'REPLACES THE NODE (a new instance: a new cluster, restored from the etcd snapshot bucket)',
  rolls: 'REPLACES THE AGENTS ONE AT A TIME (the Auto Scaling group\'s rolling update)',
};

function effectText(node: NodeChange): string {
  if (!node.clustered) return EFFECT_TEXT[node.effect];
  if (node.effect === 'replaces') return 'REPLACES A SERVER (a new instance that joins the others; the bootstrap refuses to replace a majority of the servers at once)';
  return 'RESTARTS A SERVER (CloudFormation stops and starts the servers one after another)';
}

/** The banner's lines, without markup; `code` wraps commands and names. */
export function noticeLines(notices: BootstrapNotice[], code: (value: string) => string): { title: string; items: string[][] } {
  const title = `Needs ${code('npm run bootstrap')}: this change alters the AWS stack, which Argo CD does not deploy. Run after merging:`;
  const items = notices.map((notice) => {
    const lines = [`${notice.env}: ${code(notice.command)}${notice.creates ? ' (creates the stack)' : ''} (${notice.files.map(code).join(', ')} changed)`];
    for (const node of notice.node) lines.push(`${effectText(node)}: ${code(node.instance)} ${node.properties.map(code).join(', ')} changes`);
    for (const command of notice.secretCommands) lines.push(`then store the new secret: ${code(command)}`);
    return lines;
  });
  return { title, items };
}
