/**
 * The rendered bootstrap stacks carry the hardening reviewers check (IMDSv2,
 * encryption, no SSH or internet ingress except 443, TLS-only buckets,
 * deletion protection and backups in production, no "*" in IAM, retention),
 * and every rule fires on a template that breaks it.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { EnvConfig } from '../generator/config/schema.js';
import { DATABASES } from '../generator/platform-names.js';
import { loadConfig } from '../bootstrap/lib/environment.js';
import { environmentSecrets } from '../bootstrap/names.js';
import { renderStackFiles } from '../bootstrap/render.js';
import { bootstrapTemplate, parameterValues } from '../bootstrap/template/stack.js';
import { renderUserData, USER_DATA_LIMIT_BYTES, UserDataError, userDataSourcePath } from '../bootstrap/template/user-data.js';
import { REPO_ROOT } from '../bootstrap/tools/python-tools.js';
import { hardeningViolations, type ParsedTemplate } from './support/stack-hardening.js';

const ENVIRONMENTS = ['dev', 'staging', 'prod'];
const configOf = (env: string) => loadConfig(REPO_ROOT, env);
const renderedTemplate = (env: string) => parse(readFileSync(join(REPO_ROOT, 'rendered', env, 'bootstrap', 'template.yaml'), 'utf8')) as ParsedTemplate & Record<string, unknown>;
const clone = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;
const freshTemplate = (config: EnvConfig) => clone(bootstrapTemplate(config)) as unknown as ParsedTemplate;

describe.each(ENVIRONMENTS)('rendered/%s/bootstrap', (env) => {
  const config = configOf(env);
  const template = renderedTemplate(env);

  it('is what the generator renders from the environment (deterministically)', () => {
    const files = renderStackFiles(config);
    expect(renderStackFiles(config)).toEqual(files);
    expect(readFileSync(join(REPO_ROOT, 'rendered', env, 'bootstrap', 'template.yaml'), 'utf8')).toBe(files.get('bootstrap/template.yaml'));
    expect(JSON.parse(readFileSync(join(REPO_ROOT, 'rendered', env, 'bootstrap', 'parameters.json'), 'utf8'))).toEqual(parameterValues(config));
  });

  it('breaks none of the hardening rules', () => {
    expect(hardeningViolations(template, config)).toEqual([]);
  });

  it('fits in one CloudFormation request as JSON', () => {
    expect(JSON.stringify(template).length).toBeLessThan(51_200);
  });

  it('creates every secret the environment references, retained and KMS-encrypted', () => {
    const names = Object.values(template.Resources)
      .filter((resource) => resource.Type === 'AWS::SecretsManager::Secret')
      .map((resource) => resource.Properties?.['Name']);
    expect(names.sort()).toEqual(environmentSecrets(config).map((secret) => secret.name));
    expect(names).toEqual(expect.arrayContaining([`${config.secretsManager.prefix}tailscale/node-auth-key`, `${config.secretsManager.prefix}providers/openai`, `${config.secretsManager.prefix}k3s/token`]));
  });

  it('starts Aurora with the openwebui database and the configured capacity', () => {
    const cluster = template.Resources['AuroraCluster']!.Properties!;
    expect(cluster['DatabaseName']).toBe(DATABASES.openWebUI);
    const parameters = Object.fromEntries(parameterValues(config).map((p) => [p.ParameterKey, p.ParameterValue]));
    expect(parameters).toMatchObject({ AuroraMinCapacity: String(config.aurora.minCapacity), AuroraMaxCapacity: String(config.aurora.maxCapacity), NodeAmiId: config.node.amiId });
  });

  it('boots the node with the pinned K3s, its secrets by name, and the Argo CD hand-over', () => {
    const script = (template.Resources['NodeInstance']!.Properties!['UserData'] as { 'Fn::Base64': string })['Fn::Base64'];
    expect(Buffer.byteLength(script)).toBeLessThan(USER_DATA_LIMIT_BYTES);
    expect(script).toContain(`readonly K3S_VERSION='${config.k3s.version}'`);
    expect(script).toContain(`readonly TAILSCALE_AUTH_KEY_SECRET='${config.secretsManager.prefix}tailscale/node-auth-key'`);
    // The hand-over is fetched from git, not embedded: no chart, version or chart value in user data.
    expect(script).toContain(`readonly ARGOCD_BOOTSTRAP_PATH='rendered/${config.name}/bootstrap/argocd-bootstrap.yaml'`);
    expect(script).toContain(`readonly GIT_REVISION='${config.git.targetRevision}'`);
    expect(script).not.toContain(config.addons.argocd.version);
    expect(script).not.toMatch(/kind: HelmChart|valuesContent|chart: argo-cd/);
    expect(script).toMatch(/^secrets-encryption: true$/m);
    expect(script).toMatch(/^protect-kernel-defaults: true$/m);
    expect(script).toMatch(/^etcd-s3: true$/m);
    expect(script).toMatch(/open-iscsi nfs-common cryptsetup/);
    expect(script).toMatch(/aws s3 cp .*\$KUBECONFIG_BUCKET/);
    expect(script).not.toMatch(/tskey-|BEGIN [A-Z ]*PRIVATE KEY/);
  });
});

describe('production protections', () => {
  const prod = configOf('prod');

  it('keeps deletion protection, termination protection and a week of backups even when the file asks otherwise', () => {
    const careless = clone(prod);
    careless.aurora.deletionProtection = false;
    careless.aurora.backupRetentionDays = 1;
    const template = bootstrapTemplate(careless);
    expect(template.Resources['AuroraCluster']!.Properties!['DeletionProtection']).toBe(true);
    expect(template.Resources['NodeInstance']!.Properties!['DisableApiTermination']).toBe(true);
    // CloudFormation itself refuses a parameter value below the minimum.
    expect(template.Parameters['AuroraBackupRetentionDays']!.MinValue).toBe(7);
  });

  it('lets a development environment turn deletion protection off', () => {
    const dev = configOf('dev');
    expect(dev.aurora.deletionProtection).toBe(false);
    expect(bootstrapTemplate(dev).Resources['AuroraCluster']!.Properties!['DeletionProtection']).toBe(false);
    expect(bootstrapTemplate(dev).Resources['NodeInstance']!.Properties!['DisableApiTermination']).toBe(false);
  });

  it('opens 443 to the internet only with a public ingress', () => {
    const dev = configOf('dev');
    const rulesOf = (config: EnvConfig) => bootstrapTemplate(config).Resources['NodeSecurityGroup']!.Properties!['SecurityGroupIngress'];
    expect(rulesOf(dev)).toBeUndefined();
    const publicDev = clone(dev);
    publicDev.publicIngress = { enabled: true, host: 'chat.dubai-hub.example', acmeEmail: 'platform@dubai-hub.example' };
    expect(rulesOf(publicDev)).toEqual([expect.objectContaining({ CidrIp: '0.0.0.0/0', FromPort: 443, ToPort: 443, IpProtocol: 'tcp' })]);
    expect(hardeningViolations(freshTemplate(publicDev), publicDev)).toEqual([]);
  });

  it('lets the node change DNS records for ACME only with a public ingress, and only in its hosted zone', () => {
    const dev = configOf('dev');
    const statementsOf = (config: EnvConfig) =>
      (bootstrapTemplate(config).Resources['NodeRole']!.Properties!['Policies'] as { PolicyDocument: { Statement: { Sid: string; Action: string[]; Resource: unknown[] }[] } }[])[0]!
        .PolicyDocument.Statement;
    expect(statementsOf(dev).filter((statement) => statement.Action.some((action) => action.startsWith('route53:')))).toEqual([]);
    const publicDev = clone(dev);
    publicDev.publicIngress = { enabled: true, host: 'chat.dubai-hub.example', acmeEmail: 'platform@dubai-hub.example', route53HostedZoneId: 'Z0123456789ABCDEFGHIJ' };
    const route53 = statementsOf(publicDev).filter((statement) => statement.Action.some((action) => action.startsWith('route53:')));
    expect(route53.map((statement) => [statement.Sid, statement.Resource])).toEqual([
      ['AcmeDnsRecords', [{ 'Fn::Sub': 'arn:${AWS::Partition}:route53:::hostedzone/Z0123456789ABCDEFGHIJ' }]],
      ['AcmeDnsChanges', [{ 'Fn::Sub': 'arn:${AWS::Partition}:route53:::change/*' }]],
    ]);
    expect(hardeningViolations(freshTemplate(publicDev), publicDev)).toEqual([]);
  });

  it('seeds Argo CD repository credentials from Secrets Manager only for a private repository, never on a command line', () => {
    const dev = configOf('dev');
    expect(renderUserData(dev)).toContain("REPO_CREDENTIALS_SECRET=''");
    const privateDev = clone(dev);
    privateDev.git.credentialsSecret = 'git/repository-credentials';
    const script = renderUserData(privateDev);
    expect(script).toContain("REPO_CREDENTIALS_SECRET='dubai/dev/git/repository-credentials'");
    expect(script).toContain("REPO_SECRET_NAME='repository-credentials'");
    expect(script).toMatch(/--from-file=password="\$dir\/password"/);
    expect(script).not.toMatch(/--from-literal/);
    expect(environmentSecrets(privateDev).map((secret) => secret.name)).toContain('dubai/dev/git/repository-credentials');
  });
});

describe('each hardening rule fires on a template that breaks it', () => {
  const prod = configOf('prod');
  type Tamper = (template: ParsedTemplate) => void;
  const props = (template: ParsedTemplate, id: string) => template.Resources[id]!.Properties!;
  const cases: [string, Tamper, RegExp][] = [
    ['IMDSv1 allowed', (t) => ((props(t, 'NodeInstance')['MetadataOptions'] as Record<string, unknown>)['HttpTokens'] = 'optional'), /NodeInstance: IMDSv2 is not required/],
    ['hop limit 1', (t) => ((props(t, 'NodeInstance')['MetadataOptions'] as Record<string, unknown>)['HttpPutResponseHopLimit'] = 1), /hop limit is not 2/],
    ['unencrypted data volume', (t) => (props(t, 'NodeDataVolume')['Encrypted'] = false), /NodeDataVolume: volume is not encrypted gp3/],
    ['no termination protection', (t) => (props(t, 'NodeInstance')['DisableApiTermination'] = false), /no termination protection in production/],
    ['SSH from the internet', (t) => (props(t, 'NodeSecurityGroup')['SecurityGroupIngress'] = [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, CidrIp: '0.0.0.0/0' }]), /admits SSH \(22\)/],
    ['API from the internet', (t) => (props(t, 'NodeSecurityGroup')['SecurityGroupIngress'] = [{ IpProtocol: 'tcp', FromPort: 6443, ToPort: 6443, CidrIp: '0.0.0.0/0' }]), /admits the Kubernetes API/],
    ['443 without a public ingress', (t) => (props(t, 'NodeSecurityGroup')['SecurityGroupIngress'] = [{ IpProtocol: 'tcp', FromPort: 443, ToPort: 443, CidrIp: '0.0.0.0/0' }]), /without publicIngress.enabled/],
    ['Aurora unprotected', (t) => (props(t, 'AuroraCluster')['DeletionProtection'] = false), /AuroraCluster: no deletion protection in production/],
    ['Aurora unencrypted', (t) => (props(t, 'AuroraCluster')['StorageEncrypted'] = false), /storage is not encrypted/],
    ['literal master password', (t) => (props(t, 'AuroraCluster')['MasterUserPassword'] = 'hunter2hunter2'), /master password is not managed by RDS/],
    ['TLS not forced', (t) => (props(t, 'AuroraClusterParameterGroup')['Parameters'] = {}), /rds.force_ssl=1/],
    ['Aurora deleted without snapshot', (t) => (t.Resources['AuroraCluster']!.DeletionPolicy = 'Delete'), /not snapshotted on delete or replace/],
    ['bucket without versioning', (t) => (props(t, 'AttachmentsBucket')['VersioningConfiguration'] = { Status: 'Suspended' }), /AttachmentsBucket: versioning is off/],
    ['bucket without TLS policy', (t) => delete t.Resources['KubeconfigBucketPolicy'], /KubeconfigBucket: no bucket policy denies requests without TLS/],
    ['bucket with SSE-S3', (t) => (props(t, 'EtcdSnapshotsBucket')['BucketEncryption'] = { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] }), /EtcdSnapshotsBucket: encryption is AES256/],
    ['bucket deleted with the stack', (t) => (t.Resources['LonghornBackupsBucket']!.DeletionPolicy = 'Delete'), /LonghornBackupsBucket: not retained/],
    ['literal secret', (t) => (props(t, 'SecretRedisPassword')['SecretString'] = 'plain'), /SecretRedisPassword: holds a literal secret value/],
    ['secret deleted with the stack', (t) => (t.Resources['SecretK3sToken']!.DeletionPolicy = 'Delete'), /SecretK3sToken: not retained/],
    [
      'IAM "*" resource',
      (t) => ((props(t, 'NodeRole')['Policies'] as { PolicyDocument: { Statement: unknown[] } }[])[0]!.PolicyDocument.Statement.push({ Sid: 'Wide', Effect: 'Allow', Action: ['s3:GetObject'], Resource: '*' })),
      /NodeRole: statement Wide has a "\*" resource/,
    ],
    [
      'IAM service wildcard',
      (t) => ((props(t, 'NodeRole')['Policies'] as { PolicyDocument: { Statement: unknown[] } }[])[0]!.PolicyDocument.Statement.push({ Sid: 'AllS3', Effect: 'Allow', Action: 's3:*', Resource: 'arn:aws:s3:::x/*' })),
      /NodeRole: statement AllS3 allows every action/,
    ],
  ];
  it.each(cases)('%s', (_name, tamper, expected) => {
    const template = freshTemplate(prod);
    expect(hardeningViolations(template, prod)).toEqual([]);
    tamper(template);
    expect(hardeningViolations(template, prod).join('\n')).toMatch(expected);
  });
});

describe('user data limits', () => {
  it('refuses user data above 16 KB with the way out', () => {
    const dev = configOf('dev');
    const huge = `#!/bin/bash\n# @@ENVIRONMENT@@\n${'#'.repeat(USER_DATA_LIMIT_BYTES)}\n`;
    expect(() => renderUserData(dev, huge)).toThrow(UserDataError);
    expect(() => renderUserData(dev, huge)).toThrow(/over EC2's limit of 16384; move work from bootstrap\/node\/user-data.sh into Argo CD/);
  });

  it('finds its shell source from a bundle elsewhere in the checkout, and says so when there is none', () => {
    expect(userDataSourcePath(join(REPO_ROOT, '.tools', 'cache', 'cli.mjs'))).toBe(join(REPO_ROOT, 'bootstrap', 'node', 'user-data.sh'));
    expect(() => userDataSourcePath('/nonexistent/cache/cli.mjs')).toThrow(/cannot find bootstrap\/node\/user-data.sh in any folder above \/nonexistent\/cache\/cli.mjs/);
  });

  it('refuses a source without its placeholders', () => {
    expect(() => renderUserData(configOf('dev'), '#!/bin/bash\necho hi\n')).toThrow(/must contain the line "# @@ENVIRONMENT@@"/);
  });
});
