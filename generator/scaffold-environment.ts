/**
 * `npm run env:new`: a new environment from an existing one. The config is the
 * template with its own name, account, Secrets Manager prefix, tailnet
 * hostnames and a VPC range no other environment of the same account and
 * region uses; the outputs file holds placeholders whose names are derived
 * from that config with the functions the bootstrap stack is named with, so
 * the environment renders (marked as rendered from placeholders) before its
 * stack exists. Nothing is written unless the result loads and passes the
 * cross-environment rules.
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseDocument, Scalar, stringify } from 'yaml';
import { checkAcrossEnvironments, readEnvironmentSources } from './config/cross-environment-checks.js';
import { ConfigError, type ConfigIssue } from './config/errors.js';
import { listEnvironments, loadEnvironment } from './config/load-environment.js';
import { placeholderOutputs } from './config/outputs-ownership.js';
import { envConfigSchema, type EnvConfig } from './config/schema.js';
import { checkSchema } from './config/schema-check.js';
import { cidrRange, K3S_NETWORKS, rangesOverlap } from './config/semantic-checks.js';
import { parseYaml } from './config/yaml-source.js';

export interface ScaffoldRequest {
  name: string;
  from: string;
  accountId: string;
  region?: string;
  tier?: EnvConfig['tier'];
  vpcCidr?: string;
}

export interface Scaffolded {
  configFile: string;
  outputsFile: string;
  vpcCidr: string;
}

const NAME = /^[a-z][a-z0-9-]{1,15}$/;
const ACCOUNT = /^[0-9]{12}$/;
const CIDR = /^(?:[0-9]{1,3}\.){3}[0-9]{1,3}\/([0-9]{1,2})$/;

/** Range sizes a VPC may have here: a /16 to a /20 holds the public /24 and the private .10 and .11 /24s. */
const VPC_PREFIX_LENGTHS = { min: 16, max: 20 } as const;

function numberToIpv4(value: number): string {
  return [24, 16, 8, 0].map((shift) => (value >>> shift) & 255).join('.');
}

/** The public subnet is the VPC's first /24 (the further zones' its 2nd and 3rd), the private ones its 11th and 12th (as in the repository's environments). */
export function subnetsOf(vpcCidr: string): { publicSubnetCidr: string; additionalPublicSubnetCidrs: [string, string]; privateSubnetCidrs: [string, string] } {
  const [start] = cidrRange(vpcCidr)!;
  const block = (index: number) => `${numberToIpv4(start + index * 256)}/24`;
  return { publicSubnetCidr: block(0), additionalPublicSubnetCidrs: [block(1), block(2)], privateSubnetCidrs: [block(10), block(11)] };
}

/** VPC ranges already used in an account and region, by environment. */
function usedRanges(root: string, accountId: string, region: string): { env: string; cidr: string }[] {
  return readEnvironmentSources(root, listEnvironments(join(root, 'environments')))
    .filter(({ config }) => config.aws.accountId === accountId && config.aws.region === region)
    .map(({ name, config }) => ({ env: name, cidr: config.network.vpcCidr }));
}

/** The first 10.x.0.0/16 from 10.40 on that overlaps no range in `used`. */
export function freeVpcCidr(used: readonly string[]): string | undefined {
  // K3s's pod and service networks are never a VPC's (checkEnvironment refuses them).
  const ranges = [...used, ...Object.values(K3S_NETWORKS)].map(cidrRange).filter((range): range is [number, number] => range !== undefined);
  for (let second = 40; second < 256; second++) {
    const cidr = `10.${second}.0.0/16`;
    const range = cidrRange(cidr)!;
    if (!ranges.some((other) => rangesOverlap(range, other))) return cidr;
  }
  return undefined;
}

function refuse(file: string, path: string, problem: string, expected: string, fix: string): never {
  throw new ConfigError([{ file, path, problem, expected, fix }]);
}

function chooseVpcCidr(root: string, request: ScaffoldRequest, region: string, configFile: string): string {
  const used = usedRanges(root, request.accountId, region);
  if (request.vpcCidr === undefined) {
    const free = freeVpcCidr(used.map(({ cidr }) => cidr));
    if (!free) refuse(configFile, 'network.vpcCidr', `no 10.x.0.0/16 is free in account ${request.accountId}, ${region}`, 'a VPC range no other environment of the account and region uses', 'pass --vpc-cidr');
    return free;
  }
  const length = Number(CIDR.exec(request.vpcCidr)?.[1]);
  const range = cidrRange(request.vpcCidr);
  if (!range || !(length >= VPC_PREFIX_LENGTHS.min && length <= VPC_PREFIX_LENGTHS.max)) {
    refuse(configFile, 'network.vpcCidr', `--vpc-cidr ${request.vpcCidr} is not a VPC range this command can lay out`, `a /${VPC_PREFIX_LENGTHS.min} to /${VPC_PREFIX_LENGTHS.max} whose address is the first of its range, e.g. 10.60.0.0/16`, 'pass another --vpc-cidr, or leave it out to have one chosen');
  }
  const clash = used.find(({ cidr }) => {
    const other = cidrRange(cidr);
    return other !== undefined && rangesOverlap(range, other);
  });
  if (clash) {
    refuse(configFile, 'network.vpcCidr', `--vpc-cidr ${request.vpcCidr} overlaps ${clash.cidr} of environment ${clash.env} in account ${request.accountId}, ${region}`, 'a VPC range no other environment of the account and region uses', `leave --vpc-cidr out to get ${freeVpcCidr(used.map(({ cidr }) => cidr)) ?? 'a free range'}, or choose another`);
  }
  return request.vpcCidr;
}

/** The template's text with the new environment's own values, comments kept. */
export function scaffoldConfigText(templateText: string, request: ScaffoldRequest, vpcCidr: string): string {
  const doc = parseDocument(templateText);
  const { name } = request;
  doc.setIn(['name'], name);
  if (request.tier) doc.setIn(['tier'], request.tier);
  const account = new Scalar(request.accountId);
  account.type = Scalar.QUOTE_DOUBLE;
  doc.setIn(['aws', 'accountId'], account);
  if (request.region) doc.setIn(['aws', 'region'], request.region);
  const subnets = subnetsOf(vpcCidr);
  doc.setIn(['network', 'vpcCidr'], vpcCidr);
  doc.setIn(['network', 'publicSubnetCidr'], subnets.publicSubnetCidr);
  const privates = doc.createNode(subnets.privateSubnetCidrs, { flow: true });
  doc.setIn(['network', 'privateSubnetCidrs'], privates);
  // A template spread across zones keeps as many zones, in the new VPC.
  const zones = doc.getIn(['network', 'additionalPublicSubnetCidrs']) as { items?: unknown[] } | undefined;
  if (zones?.items) doc.setIn(['network', 'additionalPublicSubnetCidrs'], doc.createNode(subnets.additionalPublicSubnetCidrs.slice(0, zones.items.length), { flow: true }));
  doc.setIn(['hostnames', 'openWebUI'], `chat-${name}`);
  doc.setIn(['hostnames', 'argocd'], `argocd-${name}`);
  doc.setIn(['hostnames', 'node'], `k3s-${name}`);
  doc.setIn(['secretsManager', 'prefix'], `dubai/${name}/`);
  // A public name belongs to the template's environment: the new one starts on the tailnet only.
  if (doc.hasIn(['publicIngress'])) doc.setIn(['publicIngress'], doc.createNode({ enabled: false }));
  // An OIDC client is registered per environment.
  if (doc.hasIn(['openWebUI', 'oidc', 'clientId'])) doc.setIn(['openWebUI', 'oidc', 'clientId'], `open-webui-${name}`);
  const header = `# yaml-language-server: $schema=./environment.schema.json\n# ${name}: scaffolded from ${request.from} by \`npm run env:new\`; change what differs from ${request.from}.\n`;
  return header + doc.toString({ flowCollectionPadding: false }).replace(/^(?:#.*\n|\n)*/, '');
}

export function outputsText(config: EnvConfig): string {
  return [
    '# yaml-language-server: $schema=./outputs.schema.json',
    `# Placeholder until \`npm run bootstrap -- --env ${config.name}\` writes the real outputs of the stack.`,
    stringify(placeholderOutputs(config), { lineWidth: 0 }),
  ].join('\n');
}

export function scaffoldEnvironment(root: string, request: ScaffoldRequest): Scaffolded {
  const configFile = `environments/${request.name}.yaml`;
  const outputsFile = `environments/${request.name}.outputs.yaml`;
  const existing = listEnvironments(join(root, 'environments'));
  if (!NAME.test(request.name)) {
    refuse(configFile, 'name', `"${request.name}" is not an environment name`, 'lower case letters, digits and hyphens, 2–16 characters, starting with a letter', 'pass another --name, e.g. qa');
  }
  if (existing.includes(request.name) || existsSync(join(root, outputsFile))) {
    refuse(configFile, 'name', `environment "${request.name}" already exists`, 'a name no environment has', `choose another --name (existing: ${existing.join(', ')}), or edit ${configFile}`);
  }
  if (!existing.includes(request.from)) {
    refuse(`environments/${request.from}.yaml`, '', `no environment "${request.from}" to start from`, `one of: ${existing.join(', ')}`, 'pass --from with one of them');
  }
  if (!ACCOUNT.test(request.accountId)) {
    refuse(configFile, 'aws.accountId', `--account ${request.accountId} is not an AWS account id`, 'the 12 digits of the account, leading zeros included', 'pass --account 123456789012 (the id of the account the stack goes to)');
  }
  const templateText = readFileSync(join(root, 'environments', `${request.from}.yaml`), 'utf8');
  const templateRegion = (parseDocument(templateText).getIn(['aws', 'region']) as string | undefined) ?? 'me-central-1';
  const vpcCidr = chooseVpcCidr(root, request, request.region ?? templateRegion, configFile);

  const text = scaffoldConfigText(templateText, request, vpcCidr);
  const source = parseYaml(text, configFile);
  const schemaIssues = checkSchema(envConfigSchema, source);
  if (schemaIssues.length > 0) throw new ConfigError(schemaIssues);

  writeFileSync(join(root, configFile), text);
  writeFileSync(join(root, outputsFile), outputsText(source.data as EnvConfig));
  try {
    loadEnvironment(root, request.name);
    const across: ConfigIssue[] = checkAcrossEnvironments(readEnvironmentSources(root, [...existing, request.name])).filter((issue) => [configFile, outputsFile].includes(issue.file) || issue.problem.includes(`environments/${request.name}.`));
    if (across.length > 0) throw new ConfigError(across);
  } catch (error) {
    rmSync(join(root, configFile), { force: true });
    rmSync(join(root, outputsFile), { force: true });
    throw error;
  }
  return { configFile, outputsFile, vpcCidr };
}
