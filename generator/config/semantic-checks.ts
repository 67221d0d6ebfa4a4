/**
 * Checks an environment config beyond what the JSON Schema can express. Each
 * rule has its own message naming the field, the expectation and the fix.
 */
import { isSupportedMinor, kubernetesVersionOf, SUPPORTED_KUBERNETES_MINORS } from '../kubernetes-version.js';
import { checkCluster } from './cluster-checks.js';
import { checkAuroraRestores } from './aurora-restore-checks.js';
import { checkReplication } from './replication-checks.js';
import type { ConfigIssue } from './errors.js';
import { formatPath } from './errors.js';
import type { BootstrapOutputs, EnvConfig, ResourcesConfig } from './schema.js';
import { secretReferenceProblem, type ReferenceKind } from './secret-namespaces.js';
import { redact, secretValueReason } from './secret-values.js';
import type { YamlSource } from './yaml-source.js';

type Path = (string | number)[];

class IssueList {
  readonly issues: ConfigIssue[] = [];
  constructor(private readonly source: YamlSource) {}
  add(path: Path, problem: string, expected: string, fix: string, severity?: 'warning'): void {
    this.issues.push({ file: this.source.file, path: formatPath(path), ...this.source.locate(path), problem, expected, fix, ...(severity ? { severity } : {}) });
  }
}

const MEMORY_UNITS: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40 };

export function memoryBytes(quantity: string): number {
  const match = /^([0-9]+)(Ki|Mi|Gi|Ti)$/.exec(quantity);
  if (!match) throw new Error(`not a memory quantity: ${quantity}`);
  return Number(match[1]) * MEMORY_UNITS[match[2]!]!;
}

/** The pod and service networks K3s uses by default (the node's config sets neither). */
export const K3S_NETWORKS = { pod: '10.42.0.0/16', service: '10.43.0.0/16' } as const;

export function rangesOverlap(a: readonly [number, number], b: readonly [number, number]): boolean {
  return a[0] <= b[1] && b[0] <= a[1];
}

function ipv4ToNumber(ip: string): number {
  return ip.split('.').reduce((acc, part) => acc * 256 + Number(part), 0);
}

/** First and last address of an IPv4 CIDR, or undefined when the address is not the first of its range. */
export function cidrRange(cidr: string): [number, number] | undefined {
  const [ip, bits] = cidr.split('/');
  const octets = ip!.split('.').map(Number);
  if (octets.some((octet) => octet > 255)) return undefined;
  const size = 2 ** (32 - Number(bits));
  const start = ipv4ToNumber(ip!);
  if (start % size !== 0) return undefined;
  return [start, start + size - 1];
}

/** All secret references of a config, with their field paths. */
export function secretReferences(config: EnvConfig): { path: Path; name: string; kind: ReferenceKind }[] {
  const refs = config.litellm.models.map((model, index) => ({ path: ['litellm', 'models', index, 'apiKeySecret'] as Path, name: model.apiKeySecret, kind: 'provider-key' as ReferenceKind }));
  if (config.openWebUI.oidc) refs.push({ path: ['openWebUI', 'oidc', 'clientSecret'], name: config.openWebUI.oidc.clientSecret, kind: 'other' });
  if (config.git.credentialsSecret) refs.push({ path: ['git', 'credentialsSecret'], name: config.git.credentialsSecret, kind: 'other' });
  return refs;
}

export function checkEnvironment(config: EnvConfig, source: YamlSource, expectedName: string): ConfigIssue[] {
  const list = new IssueList(source);

  if (config.name !== expectedName) {
    list.add(['name'], `name "${config.name}" does not match the file name`, `"${expectedName}" (the file is ${source.file})`, `set name: ${expectedName}, or rename the file to ${config.name}.yaml`);
  }

  if (!config.secretsManager.prefix.endsWith(`${config.name}/`)) {
    list.add(
      ['secretsManager', 'prefix'],
      `prefix "${config.secretsManager.prefix}" does not end with the environment name`,
      `a prefix ending in "${config.name}/", e.g. "dubai/${config.name}/", so one environment can never read another's secrets`,
      `set secretsManager.prefix: dubai/${config.name}/`,
    );
  }

  const kube = kubernetesVersionOf(config.k3s.version);
  if (!isSupportedMinor(kube.minor)) {
    const supported = SUPPORTED_KUBERNETES_MINORS.map((minor) => `1.${minor}`).join(', ');
    list.add(['k3s', 'version'], `K3s ${config.k3s.version} is Kubernetes ${kube.short}, which has no vendored schemas`, `a K3s release of Kubernetes ${supported}`, `pin a K3s release of a supported minor, or vendor the v${kube.short}.0 schemas under schemas/ first`);
  }

  // The upgrade Jobs cordon and drain with this kubectl; kubectl supports one minor of skew against the API server.
  const kubectlTag = config.systemUpgrade.kubectlImage.tag;
  const kubectlMinor = /^v1\.([0-9]+)\.[0-9]+$/.exec(kubectlTag)?.[1];
  if (kubectlMinor === undefined || Math.abs(Number(kubectlMinor) - kube.minor) > 1) {
    list.add(
      ['systemUpgrade', 'kubectlImage', 'tag'],
      `kubectl "${kubectlTag}" is not within one minor of Kubernetes ${kube.short} (k3s.version ${config.k3s.version})`,
      `a kubectl release v1.<minor>.<patch> within one minor of the cluster (kubectl's supported version skew), normally the cluster's own, v${kube.short}.x`,
      `set systemUpgrade.kubectlImage to a kubectl image of Kubernetes ${kube.short} listed with its digest in generator/images/proven-images.ts`,
    );
  }

  // Several Open WebUI replicas share state only through Redis, S3 and pgvector.
  const webui = config.openWebUI;
  if (webui.replicas > 1) {
    if (!config.redis.enabled) {
      list.add(['openWebUI', 'replicas'], `${webui.replicas} Open WebUI replicas need Redis for websockets, but redis.enabled is false`, 'redis.enabled: true whenever openWebUI.replicas > 1', 'set redis.enabled: true, or openWebUI.replicas: 1');
    }
    if (webui.storage !== 's3') {
      list.add(['openWebUI', 'storage'], `${webui.replicas} Open WebUI replicas need shared file storage, but storage is "${webui.storage}"`, 'storage: s3 whenever openWebUI.replicas > 1', 'set openWebUI.storage: s3, or openWebUI.replicas: 1');
    }
    if (webui.vectorDb !== 'pgvector') {
      list.add(['openWebUI', 'vectorDb'], `${webui.replicas} Open WebUI replicas need an external vector database; the embedded Chroma breaks with several processes`, 'vectorDb: pgvector whenever openWebUI.replicas > 1', 'set openWebUI.vectorDb: pgvector, or openWebUI.replicas: 1');
    }
  }
  if (config.litellm.replicas > 1 && !config.redis.enabled) {
    list.add(['litellm', 'replicas'], `${config.litellm.replicas} LiteLLM replicas need Redis to share rate limits, but redis.enabled is false`, 'redis.enabled: true whenever litellm.replicas > 1', 'set redis.enabled: true, or litellm.replicas: 1');
  }

  checkCluster(
    config,
    (path, problem, expected, fix) => list.add(path, problem, expected, fix),
    (path, problem, expected, fix) => list.add(path, problem, expected, fix, 'warning'),
  );
  checkAuroraRestores(config, (path, problem, expected, fix) => list.add(path, problem, expected, fix));
  checkReplication(config, (path, problem, expected, fix) => list.add(path, problem, expected, fix));

  const seen = new Map<string, number>();
  config.litellm.models.forEach((model, index) => {
    const first = seen.get(model.name);
    if (first === undefined) seen.set(model.name, index);
    else list.add(['litellm', 'models', index, 'name'], `model name "${model.name}" is already used by litellm.models[${first}]`, 'unique model names (users pick models by name)', `rename one of them, e.g. "${model.name}-2"`);
  });

  if (!seen.has(webui.embeddingModel)) {
    list.add(['openWebUI', 'embeddingModel'], `embedding model "${webui.embeddingModel}" is not one of litellm.models`, `one of: ${[...seen.keys()].join(', ')}`, 'add the embedding model to litellm.models, or name one that is there');
  }

  for (const ref of secretReferences(config)) {
    const reason = secretValueReason(ref.name);
    if (reason) {
      list.add(
        ref.path,
        `holds what looks like a secret value (${redact(ref.name)}): ${reason}`,
        `the name of a Secrets Manager secret under ${config.secretsManager.prefix}, e.g. providers/openai`,
        `remove the value from the file (and rotate it if it was committed), store it with \`npm run secrets -- set --env ${config.name} <name>\`, and write the name here`,
      );
      continue;
    }
    const misnamed = secretReferenceProblem(config, ref.name, ref.kind);
    if (misnamed) list.add(ref.path, misnamed.problem, misnamed.expected, misnamed.fix);
  }

  if (config.tier === 'production') {
    if (!config.aurora.deletionProtection) {
      list.add(['aurora', 'deletionProtection'], 'production cannot disable Aurora deletion protection', 'deletionProtection: true in a production environment', 'remove the line or set aurora.deletionProtection: true');
    }
    if (config.aurora.backupRetentionDays < 7) {
      list.add(['aurora', 'backupRetentionDays'], `production keeps backups only ${config.aurora.backupRetentionDays} days`, 'backupRetentionDays of at least 7 in a production environment', 'set aurora.backupRetentionDays: 7 or more');
    }
  }
  const seenAddresses = new Map<string, number>();
  config.alerts.email.forEach((address, index) => {
    const first = seenAddresses.get(address.toLowerCase());
    if (first !== undefined) {
      list.add(['alerts', 'email', index], `${address} is already subscribed (alerts.email[${first}])`, 'each address once (SNS keeps one subscription per address and endpoint)', 'remove the duplicate line');
    } else seenAddresses.set(address.toLowerCase(), index);
  });
  if (config.aurora.maxCapacity < config.aurora.minCapacity) {
    list.add(['aurora', 'maxCapacity'], `maxCapacity ${config.aurora.maxCapacity} is below minCapacity ${config.aurora.minCapacity}`, 'maxCapacity >= minCapacity', 'raise aurora.maxCapacity or lower aurora.minCapacity');
  }

  const resources: [Path, ResourcesConfig][] = [
    [['openWebUI', 'resources'], webui.resources],
    [['litellm', 'resources'], config.litellm.resources],
    [['redis', 'resources'], config.redis.resources],
  ];
  for (const [path, value] of resources) {
    if (memoryBytes(value.limits.memory) < memoryBytes(value.requests.memory)) {
      list.add([...path, 'limits', 'memory'], `memory limit ${value.limits.memory} is below the request ${value.requests.memory}`, 'limits.memory >= requests.memory', `raise ${formatPath([...path, 'limits', 'memory'])} to at least ${value.requests.memory}`);
    }
  }

  if (config.publicIngress.enabled) {
    const needs = { host: 'the public DNS name of Open WebUI', acmeEmail: 'a contact e-mail for ACME', route53HostedZoneId: 'the Route 53 hosted zone of the host (ACME DNS-01)' } as const;
    for (const field of Object.keys(needs) as (keyof typeof needs)[]) {
      if (!config.publicIngress[field]) {
        list.add(['publicIngress'], `a public ingress needs publicIngress.${field}`, needs[field], `add publicIngress.${field}, or set publicIngress.enabled: false`);
      }
    }
  }

  const vpc = cidrRange(config.network.vpcCidr);
  const subnets: [Path, string][] = [
    [['network', 'publicSubnetCidr'], config.network.publicSubnetCidr],
    ...config.network.additionalPublicSubnetCidrs.map((cidr, index): [Path, string] => [['network', 'additionalPublicSubnetCidrs', index], cidr]),
    ...config.network.privateSubnetCidrs.map((cidr, index): [Path, string] => [['network', 'privateSubnetCidrs', index], cidr]),
  ];
  if (!vpc) {
    list.add(['network', 'vpcCidr'], `"${config.network.vpcCidr}" is not a valid network address`, 'a CIDR whose address is the first of its range, e.g. 10.40.0.0/16', 'fix the address or the prefix length');
  } else {
    for (const [what, cidr] of Object.entries(K3S_NETWORKS)) {
      if (rangesOverlap(vpc, cidrRange(cidr)!)) {
        list.add(
          ['network', 'vpcCidr'],
          `the VPC ${config.network.vpcCidr} overlaps K3s's ${what} network ${cidr}: pods could not reach the VPC's own addresses (Aurora, the nodes), which would route into the cluster`,
          `a VPC range apart from ${Object.values(K3S_NETWORKS).join(' and ')}`,
          'choose another /16 for network.vpcCidr and its subnets (e.g. 10.44.0.0/16); no environment may use 10.42.0.0/16 or 10.43.0.0/16',
        );
      }
    }
    const ranges: [Path, [number, number]][] = [];
    for (const [path, cidr] of subnets) {
      const range = cidrRange(cidr);
      if (!range) {
        list.add(path, `"${cidr}" is not a valid network address`, 'a CIDR whose address is the first of its range', 'fix the address or the prefix length');
      } else if (range[0] < vpc[0] || range[1] > vpc[1]) {
        list.add(path, `subnet ${cidr} lies outside the VPC ${config.network.vpcCidr}`, `a subnet inside ${config.network.vpcCidr}`, 'choose a subnet inside network.vpcCidr');
      } else {
        const overlap = ranges.find(([, other]) => rangesOverlap(range, other));
        if (overlap) list.add(path, `subnet ${cidr} overlaps ${formatPath(overlap[0])}`, 'subnets that do not overlap', 'choose another range');
        ranges.push([path, range]);
      }
    }
  }

  return list.issues;
}

export function checkOutputs(outputs: BootstrapOutputs, source: YamlSource, config: EnvConfig): ConfigIssue[] {
  const list = new IssueList(source);
  const arn = /^arn:aws[a-z-]*:secretsmanager:([a-z0-9-]+):([0-9]{12}):/.exec(outputs.aurora.masterUserSecretArn);
  if (arn && arn[2] !== config.aws.accountId) {
    list.add(['aurora', 'masterUserSecretArn'], `the secret belongs to account ${arn[2]}, not the environment's ${config.aws.accountId}`, `an ARN in account ${config.aws.accountId}`, `re-run \`npm run bootstrap -- --env ${config.name}\` to rewrite this file`);
  }
  if (arn && arn[1] !== config.aws.region) {
    list.add(['aurora', 'masterUserSecretArn'], `the secret is in ${arn[1]}, not the environment's region ${config.aws.region}`, `an ARN in ${config.aws.region}`, `re-run \`npm run bootstrap -- --env ${config.name}\` to rewrite this file`);
  }
  return list.issues;
}
