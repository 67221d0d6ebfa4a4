/**
 * The hardening rules reviewers check on a bootstrap stack, as a function
 * that lists every violation in a parsed template. Tests run it on the
 * rendered templates (expecting none) and on tampered copies (expecting each
 * rule to fire).
 */
import type { EnvConfig } from '../../generator/config/schema.js';
import { OIDC_DOCUMENTS } from '../../bootstrap/names.js';
import { OIDC_BUCKET } from '../../bootstrap/template/identity.js';

type Json = unknown;
interface Resource {
  Type: string;
  Properties?: Record<string, Json>;
  DeletionPolicy?: string;
  UpdateReplacePolicy?: string;
}
export interface ParsedTemplate {
  Parameters?: Record<string, { MinValue?: number }>;
  Resources: Record<string, Resource>;
}

/** The buckets that hold backups: etcd snapshots, Longhorn backups and Open WebUI's attachments. */
export const BACKUP_BUCKETS = ['EtcdSnapshotsBucket', 'LonghornBackupsBucket', 'AttachmentsBucket'];
const INTERNET = new Set(['0.0.0.0/0', '::/0']);
const RETAINED = new Set(['Retain', 'RetainExceptOnCreate']);
const IAM_TYPES = new Set(['AWS::IAM::Role', 'AWS::IAM::User', 'AWS::IAM::Policy', 'AWS::IAM::ManagedPolicy', 'AWS::IAM::Group']);

function byType(template: ParsedTemplate, type: string): [string, Resource][] {
  return Object.entries(template.Resources).filter(([, resource]) => resource.Type === type);
}

function asList<T>(value: T | T[] | undefined): T[] {
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}

interface Rule {
  /** Source security group: traffic between the stack's own groups, not from an address range. */
  group?: Json;
  cidr?: string;
  cidrV6?: string;
  from?: number;
  to?: number;
  protocol?: string;
}

function ingressRules(template: ParsedTemplate): { where: string; rule: Rule }[] {
  const rules: { where: string; rule: Rule }[] = [];
  const read = (where: string, raw: Record<string, Json>) =>
    rules.push({
      where,
      rule: { group: raw['SourceSecurityGroupId'], cidr: raw['CidrIp'] as string, cidrV6: raw['CidrIpv6'] as string, from: raw['FromPort'] as number, to: raw['ToPort'] as number, protocol: String(raw['IpProtocol']) },
    });
  for (const [id, group] of byType(template, 'AWS::EC2::SecurityGroup')) {
    for (const raw of asList(group.Properties?.['SecurityGroupIngress'] as Record<string, Json>[] | undefined)) read(id, raw);
  }
  for (const [id, ingress] of byType(template, 'AWS::EC2::SecurityGroupIngress')) read(id, ingress.Properties ?? {});
  return rules;
}

function covers(rule: Rule, port: number): boolean {
  if (rule.protocol === '-1') return true;
  return (rule.from ?? -1) <= port && port <= (rule.to ?? -1);
}

function statements(document: Json): Record<string, Json>[] {
  return asList((document as { Statement?: Record<string, Json>[] } | undefined)?.Statement);
}

export function hardeningViolations(template: ParsedTemplate, config: EnvConfig): string[] {
  const problems: string[] = [];
  const production = config.tier === 'production';

  // Nodes (server instances and the agents' launch template): IMDSv2 with hop limit 1 (no pod reaches it), encrypted gp3,
  // monitoring, no SSH key; servers with termination protection in production.
  const instances = byType(template, 'AWS::EC2::Instance');
  if (instances.length !== config.cluster.servers) problems.push(`expected ${config.cluster.servers} EC2 instance(s) (cluster.servers), found ${instances.length}`);
  const launchTemplates = byType(template, 'AWS::EC2::LaunchTemplate').map(([id, lt]): [string, Record<string, Json>] => [id, (lt.Properties?.['LaunchTemplateData'] ?? {}) as Record<string, Json>]);
  const nodes: [string, Record<string, Json>, boolean][] = [...instances.map(([id, instance]): [string, Record<string, Json>, boolean] => [id, instance.Properties ?? {}, true]), ...launchTemplates.map(([id, data]): [string, Record<string, Json>, boolean] => [id, data, false])];
  for (const [id, props, server] of nodes) {
    const metadata = (props['MetadataOptions'] ?? {}) as Record<string, Json>;
    if (metadata['HttpTokens'] !== 'required') problems.push(`${id}: IMDSv2 is not required`);
    if (metadata['HttpPutResponseHopLimit'] !== 1) problems.push(`${id}: metadata hop limit is not 1`);
    const monitoring = server ? props['Monitoring'] : (props['Monitoring'] as { Enabled?: Json } | undefined)?.Enabled;
    if (monitoring !== true) problems.push(`${id}: detailed monitoring is off`);
    if (server && production && props['DisableApiTermination'] !== true) problems.push(`${id}: no termination protection in production`);
    if (props['KeyName'] !== undefined) problems.push(`${id}: has an SSH key pair`);
    for (const mapping of asList(props['BlockDeviceMappings'] as { Ebs?: Record<string, Json> }[])) {
      if (mapping.Ebs?.['Encrypted'] !== true || mapping.Ebs?.['VolumeType'] !== 'gp3') problems.push(`${id}: a block device is not encrypted gp3`);
    }
  }
  for (const [id, group] of byType(template, 'AWS::AutoScaling::AutoScalingGroup')) {
    if (!group.Properties?.['LaunchTemplate']) problems.push(`${id}: the Auto Scaling group does not use a launch template`);
  }
  for (const [id, balancer] of byType(template, 'AWS::ElasticLoadBalancingV2::LoadBalancer')) {
    if (balancer.Properties?.['Scheme'] !== 'internal') problems.push(`${id}: the load balancer is not internal`);
  }
  for (const [id, volume] of byType(template, 'AWS::EC2::Volume')) {
    if (volume.Properties?.['Encrypted'] !== true || volume.Properties?.['VolumeType'] !== 'gp3') problems.push(`${id}: volume is not encrypted gp3`);
    if (volume.DeletionPolicy !== 'Snapshot') problems.push(`${id}: volume is not snapshotted on deletion`);
  }

  // Network: no SSH, no Kubernetes API, nothing from the internet except 443 with a public ingress.
  // Between nodes (6443, etcd, kubelet, VXLAN) only from the stack's security groups, never from an address range.
  for (const { where, rule } of ingressRules(template)) {
    const fromRange = rule.group === undefined;
    if (fromRange && covers(rule, 22)) problems.push(`${where}: admits SSH (22)`);
    if (fromRange && covers(rule, 6443)) problems.push(`${where}: admits the Kubernetes API (6443)`);
    if (fromRange && [2379, 2380, 10250, 8472].some((port) => covers(rule, port))) problems.push(`${where}: admits node-to-node traffic (etcd, kubelet or VXLAN) from an address range`);
    if (!fromRange && covers(rule, 22)) problems.push(`${where}: admits SSH (22)`);
    const fromInternet = INTERNET.has(rule.cidr ?? '') || INTERNET.has(rule.cidrV6 ?? '');
    if (fromInternet && !(rule.protocol === 'tcp' && rule.from === 443 && rule.to === 443)) problems.push(`${where}: admits port ${rule.from}-${rule.to} from the internet`);
    if (fromInternet && !config.publicIngress.enabled) problems.push(`${where}: admits traffic from the internet without publicIngress.enabled`);
  }

  // Aurora: encrypted, private, TLS forced, managed password, protected in production, snapshot on delete.
  for (const [id, cluster] of byType(template, 'AWS::RDS::DBCluster')) {
    const props = cluster.Properties ?? {};
    if (props['StorageEncrypted'] !== true) problems.push(`${id}: storage is not encrypted`);
    if (props['ManageMasterUserPassword'] !== true || props['MasterUserPassword'] !== undefined) problems.push(`${id}: the master password is not managed by RDS`);
    if (production && props['DeletionProtection'] !== true) problems.push(`${id}: no deletion protection in production`);
    if (cluster.DeletionPolicy !== 'Snapshot' || cluster.UpdateReplacePolicy !== 'Snapshot') problems.push(`${id}: not snapshotted on delete or replace`);
    if (production && (template.Parameters?.['AuroraBackupRetentionDays']?.MinValue ?? 0) < 7) problems.push(`${id}: production backups may be kept for less than 7 days`);
  }
  const forceSsl = byType(template, 'AWS::RDS::DBClusterParameterGroup').some(([, group]) => (group.Properties?.['Parameters'] as Record<string, Json> | undefined)?.['rds.force_ssl'] === '1');
  if (!forceSsl) problems.push('no cluster parameter group sets rds.force_ssl=1');
  for (const [id, instance] of byType(template, 'AWS::RDS::DBInstance')) {
    if (instance.Properties?.['PubliclyAccessible'] !== false) problems.push(`${id}: database instance may be public`);
  }

  // S3: versioned, fully private, encrypted, logged, TLS only, retained.
  const tlsOnly = new Set(
    byType(template, 'AWS::S3::BucketPolicy')
      .filter(([, policy]) =>
        statements(policy.Properties?.['PolicyDocument']).some(
          (statement) => statement['Effect'] === 'Deny' && (statement['Condition'] as { Bool?: Record<string, Json> } | undefined)?.Bool?.['aws:SecureTransport'] === 'false',
        ),
      )
      .map(([, policy]) => (policy.Properties?.['Bucket'] as { Ref?: string } | undefined)?.Ref),
  );
  for (const [id, bucket] of byType(template, 'AWS::S3::Bucket')) {
    const props = bucket.Properties ?? {};
    if ((props['VersioningConfiguration'] as { Status?: string } | undefined)?.Status !== 'Enabled') problems.push(`${id}: versioning is off`);
    const block = (props['PublicAccessBlockConfiguration'] ?? {}) as Record<string, Json>;
    // The OIDC bucket alone may carry a public policy (checked below: exactly its two documents).
    const blocked = id === OIDC_BUCKET ? ['BlockPublicAcls', 'IgnorePublicAcls'] : ['BlockPublicAcls', 'BlockPublicPolicy', 'IgnorePublicAcls', 'RestrictPublicBuckets'];
    if (!blocked.every((key) => block[key] === true)) problems.push(`${id}: public access is not fully blocked`);
    const rules = asList((props['BucketEncryption'] as { ServerSideEncryptionConfiguration?: { ServerSideEncryptionByDefault?: { SSEAlgorithm?: string } }[] } | undefined)?.ServerSideEncryptionConfiguration);
    const algorithm = rules[0]?.ServerSideEncryptionByDefault?.SSEAlgorithm;
    const isLogBucket = id === 'AccessLogsBucket';
    // S3 delivers server access logs only to SSE-S3 buckets, and STS reads the OIDC documents anonymously
    // (no KMS key); every other bucket uses the KMS key.
    if (algorithm !== (isLogBucket || id === OIDC_BUCKET ? 'AES256' : 'aws:kms')) problems.push(`${id}: encryption is ${algorithm ?? 'missing'}`);
    if (!isLogBucket && !props['LoggingConfiguration']) problems.push(`${id}: access logging is off`);
    if (!tlsOnly.has(id)) problems.push(`${id}: no bucket policy denies requests without TLS`);
    if (!RETAINED.has(bucket.DeletionPolicy ?? '') || bucket.UpdateReplacePolicy !== 'Retain') problems.push(`${id}: not retained on delete or replace`);
  }

  // Production: every bucket that holds backups replicates, KMS-encrypted objects included, to its replica in another region (backups.replication).
  if (production) {
    for (const id of BACKUP_BUCKETS) {
      type ReplicationRule = { Status?: Json; SourceSelectionCriteria?: { SseKmsEncryptedObjects?: { Status?: Json } }; Destination?: { EncryptionConfiguration?: { ReplicaKmsKeyID?: Json } } };
      const rules = asList((template.Resources[id]?.Properties?.['ReplicationConfiguration'] as { Rules?: ReplicationRule[] } | undefined)?.Rules);
      const replicated = rules.some((rule) => rule.Status === 'Enabled' && rule.SourceSelectionCriteria?.SseKmsEncryptedObjects?.Status === 'Enabled' && rule.Destination?.EncryptionConfiguration?.ReplicaKmsKeyID !== undefined);
      if (!replicated) problems.push(`${id}: holds backups but has no copy in another region (no enabled replication of its KMS-encrypted objects) in production`);
    }
  }

  // Public reads: only the OIDC bucket's two documents, nothing else anywhere.
  const oidcDocuments = Object.values(OIDC_DOCUMENTS).map((key) => JSON.stringify({ 'Fn::Sub': `\${${OIDC_BUCKET}.Arn}/${key}` }));
  for (const [id, policy] of byType(template, 'AWS::S3::BucketPolicy')) {
    for (const statement of statements(policy.Properties?.['PolicyDocument'])) {
      const principal = statement['Principal'];
      const anyone = principal === '*' || (principal as { AWS?: Json } | undefined)?.AWS === '*';
      if (statement['Effect'] !== 'Allow' || !anyone) continue;
      const bucket = (policy.Properties?.['Bucket'] as { Ref?: string } | undefined)?.Ref;
      const resources = asList(statement['Resource'] as Json | Json[]).map((resource) => JSON.stringify(resource)).sort();
      const exactlyOidc = bucket === OIDC_BUCKET && JSON.stringify(resources) === JSON.stringify([...oidcDocuments].sort()) && JSON.stringify(statement['Action']) === '"s3:GetObject"';
      if (!exactlyOidc) problems.push(`${id}: makes something other than the two OIDC documents public`);
    }
  }

  // No long-lived credentials: no IAM user, no access key.
  for (const [id] of [...byType(template, 'AWS::IAM::User'), ...byType(template, 'AWS::IAM::AccessKey')]) problems.push(`${id}: IAM users and access keys are not allowed (use workload identity)`);

  // Web-identity roles: trusted for exactly one service account and the STS audience.
  for (const [id, role] of byType(template, 'AWS::IAM::Role')) {
    for (const statement of statements(role.Properties?.['AssumeRolePolicyDocument'])) {
      if ((statement['Principal'] as { Federated?: Json } | undefined)?.Federated === undefined) continue;
      const equals = ((statement['Condition'] as { StringEquals?: Record<string, Json> } | undefined)?.StringEquals ?? {}) as Record<string, Json>;
      const sub = Object.entries(equals).find(([key]) => key.endsWith(':sub'))?.[1];
      const aud = Object.entries(equals).find(([key]) => key.endsWith(':aud'))?.[1];
      if (statement['Action'] !== 'sts:AssumeRoleWithWebIdentity') problems.push(`${id}: a federated trust that is not AssumeRoleWithWebIdentity`);
      if (typeof sub !== 'string' || !/^system:serviceaccount:[a-z0-9-]+:[a-z0-9-]+$/.test(sub)) problems.push(`${id}: trust is not limited to one service account (StringEquals <issuer>:sub)`);
      if (aud !== 'sts.amazonaws.com') problems.push(`${id}: trust is not limited to the sts.amazonaws.com audience`);
      if ((statement['Condition'] as Record<string, Json>)['StringLike'] !== undefined) problems.push(`${id}: trust uses StringLike (a wildcard service account)`);
    }
  }

  // Secrets: never literal, KMS encrypted, retained.
  for (const [id, secret] of byType(template, 'AWS::SecretsManager::Secret')) {
    const props = secret.Properties ?? {};
    if (typeof props['SecretString'] === 'string') problems.push(`${id}: holds a literal secret value`);
    if (!props['KmsKeyId']) problems.push(`${id}: not encrypted with the stack's KMS key`);
    if (!RETAINED.has(secret.DeletionPolicy ?? '') || secret.UpdateReplacePolicy !== 'Retain') problems.push(`${id}: not retained on delete or replace`);
  }
  for (const [id, key] of byType(template, 'AWS::KMS::Key')) {
    if (key.Properties?.['EnableKeyRotation'] !== true) problems.push(`${id}: key rotation is off`);
    if (!RETAINED.has(key.DeletionPolicy ?? '')) problems.push(`${id}: the key would be deleted with the stack (retained secrets would become unreadable)`);
  }

  // IAM: named resources and actions only.
  for (const [id, principal] of Object.entries(template.Resources).filter(([, resource]) => IAM_TYPES.has(resource.Type))) {
    const documents = [
      ...asList(principal.Properties?.['Policies'] as { PolicyDocument?: Json }[]).map((policy) => policy.PolicyDocument),
      principal.Properties?.['PolicyDocument'],
    ];
    for (const statement of documents.flatMap(statements)) {
      const resourceTexts = asList(statement['Resource'] as Json).map((resource) => (typeof resource === 'string' ? resource : (resource as { 'Fn::Sub'?: string })['Fn::Sub'] ?? ''));
      // Only objects under one named bucket or prefix may end in /*.
      if (resourceTexts.some((text) => text.includes('*') && !/^(arn:[^*]+|\$\{[A-Za-z0-9]+\.Arn\}[^*]*)\/\*$/.test(text))) {
        problems.push(`${id}: statement ${String(statement['Sid'] ?? '')} has a "*" resource`);
      }
      if (asList(statement['Action'] as Json).some((action) => typeof action === 'string' && (action === '*' || action.endsWith(':*')))) {
        problems.push(`${id}: statement ${String(statement['Sid'] ?? '')} allows every action of a service`);
      }
    }
  }
  return problems;
}
