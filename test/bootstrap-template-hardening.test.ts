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
import { renderUserData, USER_DATA_LIMIT_BYTES, UserDataError, userDataScript, userDataSourcePath } from '../bootstrap/template/user-data.js';
import { REPO_ROOT } from '../bootstrap/tools/python-tools.js';
import { TEMPLATE_BODY_LIMIT, TEMPLATE_URL_LIMIT } from '../bootstrap/lib/template-upload.js';
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

  it('fits in a template the bootstrap uploads to S3 (above one request, below the TemplateURL limit)', () => {
    const size = Buffer.byteLength(JSON.stringify(template));
    // Above the TemplateBody limit the bootstrap uploads the template to S3 (bootstrap/lib/template-upload.ts);
    // since workload identity even one server's template is above it.
    expect(size).toBeGreaterThan(TEMPLATE_BODY_LIMIT);
    expect(size).toBeLessThan(TEMPLATE_URL_LIMIT);
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
    const script = userDataScript(template.Resources['NodeInstance']!.Properties!['UserData']);
    expect(Buffer.byteLength(script)).toBeLessThan(USER_DATA_LIMIT_BYTES);
    expect(script).toContain(`\nK3S_VERSION='${config.k3s.version}'`);
    expect(script).toContain(`\nTAILSCALE_AUTH_KEY_SECRET='${config.secretsManager.prefix}tailscale/node-auth-key'`);
    // The hand-over is fetched from git, not embedded: no chart, version or chart value in user data.
    expect(script).toContain(`\nARGOCD_BOOTSTRAP_PATH='rendered/${config.name}/bootstrap/argocd-bootstrap.yaml'`);
    expect(script).toContain(`\nGIT_REVISION='${config.git.targetRevision}'`);
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

  it('lets cert-manager (its own role, never the node) change DNS records for ACME only with a public ingress, and only in its hosted zone', () => {
    const dev = configOf('dev');
    const statementsOf = (config: EnvConfig, role: string) =>
      (bootstrapTemplate(config).Resources[role]?.Properties?.['Policies'] as { PolicyDocument: { Statement: { Sid: string; Action: string[]; Resource: unknown[] }[] } }[] | undefined)?.[0]!
        .PolicyDocument.Statement ?? [];
    expect(bootstrapTemplate(dev).Resources['CertManagerRole']).toBeUndefined();
    expect(statementsOf(dev, 'NodeRole').filter((statement) => statement.Action.some((action) => action.startsWith('route53:')))).toEqual([]);
    const publicDev = clone(dev);
    publicDev.publicIngress = { enabled: true, host: 'chat.dubai-hub.example', acmeEmail: 'platform@dubai-hub.example', route53HostedZoneId: 'Z0123456789ABCDEFGHIJ' };
    expect(statementsOf(publicDev, 'NodeRole').filter((statement) => statement.Action.some((action) => action.startsWith('route53:')))).toEqual([]);
    const route53 = statementsOf(publicDev, 'CertManagerRole').filter((statement) => statement.Action.some((action) => action.startsWith('route53:')));
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
    ['IMDSv1 allowed on the agents', (t) => (((props(t, 'AgentLaunchTemplate')['LaunchTemplateData'] as Record<string, unknown>)['MetadataOptions'] as Record<string, unknown>)['HttpTokens'] = 'optional'), /AgentLaunchTemplate: IMDSv2 is not required/],
    ['unencrypted agent volume', (t) => ((((props(t, 'AgentLaunchTemplate')['LaunchTemplateData'] as Record<string, unknown>)['BlockDeviceMappings'] as { Ebs: Record<string, unknown> }[])[1]!.Ebs)['Encrypted'] = false), /AgentLaunchTemplate: a block device is not encrypted gp3/],
    ['a server without termination protection', (t) => (props(t, 'Server3Instance')['DisableApiTermination'] = false), /Server3Instance: no termination protection in production/],
    ['a server missing', (t) => delete t.Resources['Server2Instance'], /expected 3 EC2 instance\(s\) \(cluster.servers\), found 2/],
    ['internet-facing registration address', (t) => (props(t, 'RegistrationLoadBalancer')['Scheme'] = 'internet-facing'), /RegistrationLoadBalancer: the load balancer is not internal/],
    ['etcd from the VPC range', (t) => (props(t, 'NodeIngressEtcd')['CidrIp'] = '10.42.0.0/16', delete props(t, 'NodeIngressEtcd')['SourceSecurityGroupId']), /NodeIngressEtcd: admits node-to-node traffic/],
    ['supervisor from an address range', (t) => (delete props(t, 'NodeIngressSupervisor')['SourceSecurityGroupId'], (props(t, 'NodeIngressSupervisor')['CidrIp'] = '10.0.0.0/8')), /NodeIngressSupervisor: admits the Kubernetes API/],
    ['hop limit 2 (pods reach the node role)', (t) => ((props(t, 'NodeInstance')['MetadataOptions'] as Record<string, unknown>)['HttpPutResponseHopLimit'] = 2), /NodeInstance: metadata hop limit is not 1/],
    ['an IAM user with an access key', (t) => Object.assign(t.Resources, { LegacyUser: { Type: 'AWS::IAM::User', Properties: {} }, LegacyKey: { Type: 'AWS::IAM::AccessKey', Properties: { UserName: { Ref: 'LegacyUser' } } } }), /LegacyUser: IAM users and access keys are not allowed/],
    [
      'a public object other than the OIDC documents',
      (t) => ((props(t, 'OidcBucketPolicy')['PolicyDocument'] as { Statement: { Resource: unknown[] }[] }).Statement[1]!.Resource = [{ 'Fn::Sub': '${OidcBucket.Arn}/*' }]),
      /OidcBucketPolicy: makes something other than the two OIDC documents public/,
    ],
    [
      'a role trusted for every service account of a namespace',
      (t) => {
        const statement = (props(t, 'OpenWebUIRole')['AssumeRolePolicyDocument'] as { Statement: { Condition: Record<string, Record<string, string>> }[] }).Statement[0]!;
        const sub = Object.keys(statement.Condition['StringEquals']!).find((key) => key.endsWith(':sub'))!;
        statement.Condition['StringLike'] = { [sub]: 'system:serviceaccount:open-webui:*' };
        delete statement.Condition['StringEquals']![sub];
      },
      /OpenWebUIRole: trust is not limited to one service account/,
    ],
    [
      'a role trusted for any audience',
      (t) => {
        const equals = (props(t, 'ExternalSecretsRole')['AssumeRolePolicyDocument'] as { Statement: { Condition: { StringEquals: Record<string, string> } }[] }).Statement[0]!.Condition.StringEquals;
        delete equals[Object.keys(equals).find((key) => key.endsWith(':aud'))!];
      },
      /ExternalSecretsRole: trust is not limited to the sts.amazonaws.com audience/,
    ],
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
    const huge = `#!/bin/bash\n# @@ENVIRONMENT@@\n: ${'x'.repeat(USER_DATA_LIMIT_BYTES)}\n`;
    expect(() => renderUserData(dev, huge)).toThrow(UserDataError);
    expect(() => renderUserData(dev, huge)).toThrow(/over EC2's limit of 16384; move work from bootstrap\/node\/user-data.sh into Argo CD/);
  });

  it('finds its shell source from a bundle elsewhere in the checkout, and says so when there is none', () => {
    expect(userDataSourcePath(join(REPO_ROOT, '.tools', 'cache', 'cli.mjs'))).toBe(join(REPO_ROOT, 'bootstrap', 'node', 'user-data.sh'));
    expect(() => userDataSourcePath('/nonexistent/cache/cli.mjs')).toThrow(/cannot find bootstrap\/node\/user-data.sh in any folder above \/nonexistent\/cache\/cli.mjs/);
  });

  it('leaves the source\'s comments out of the rendered script, but keeps its header and heredoc contents', () => {
    const source = ['#!/bin/bash', '# header line', '# @@ENVIRONMENT@@', '', 'f() {', '  # a comment for reviewers', '  cat <<\'DOC\'', '# inside a heredoc', '  indented: yaml', 'DOC', '}', '# another'].join('\n');
    const script = renderUserData(configOf('dev'), source);
    expect(script).toContain('# header line\nreadonly ENV_NAME=');
    // Code lines lose their indentation; a heredoc's body (YAML) keeps it.
    expect(script).toContain("f() {\ncat <<'DOC'\n# inside a heredoc\n  indented: yaml\nDOC\n}");
    expect(script).not.toMatch(/a comment for reviewers|# another/);
  });

  it('refuses a source without its placeholders', () => {
    expect(() => renderUserData(configOf('dev'), '#!/bin/bash\necho hi\n')).toThrow(/must contain the line "# @@ENVIRONMENT@@"/);
  });
});

describe('the HA stack of staging and prod', () => {
  type Props = Record<string, unknown>;
  const propsOf = (template: ParsedTemplate, id: string) => template.Resources[id]!.Properties as Props;

  it.each(['staging', 'prod'])('%s: three servers, one per zone, each with its own data volume in that zone', (env) => {
    const template = renderedTemplate(env);
    const servers = ['NodeInstance', 'Server2Instance', 'Server3Instance'];
    const subnets = servers.map((id) => ((propsOf(template, id)['NetworkInterfaces'] as { SubnetId: { Ref: string } }[])[0]!.SubnetId.Ref));
    expect(subnets).toEqual(['PublicSubnet', 'PublicSubnetB', 'PublicSubnetC']);
    expect(['PublicSubnet', 'PublicSubnetB', 'PublicSubnetC'].map((id) => propsOf(template, id)['AvailabilityZone'])).toEqual([0, 1, 2].map((zone) => ({ 'Fn::Select': [zone, { 'Fn::GetAZs': '' }] })));
    expect(['NodeDataVolume', 'Server2DataVolume', 'Server3DataVolume'].map((id) => propsOf(template, id)['AvailabilityZone'])).toEqual(subnets.map((subnet) => ({ 'Fn::GetAtt': [subnet, 'AvailabilityZone'] })));
    // Created (and restarted) one after the other.
    expect(template.Resources['Server3Instance']).toMatchObject({ DependsOn: ['PublicDefaultRoute', 'Server2Instance'] });
  });

  it.each(['staging', 'prod'])('%s: roles in the user data, one token and the registration address', (env) => {
    const template = renderedTemplate(env);
    const config = configOf(env);
    const scripts = ['NodeInstance', 'Server2Instance', 'Server3Instance'].map((id) => userDataScript(propsOf(template, id)['UserData'], 'nlb.example'));
    scripts.push(userDataScript((propsOf(template, 'AgentLaunchTemplate')['LaunchTemplateData'] as Props)['UserData'], 'nlb.example'));
    expect(scripts.map((script) => /^NODE_ROLE='(\w+)' \\$/m.exec(script)?.[1])).toEqual(['server', 'server', 'server', 'agent']);
    expect(scripts.map((script) => /^SERVER_INDEX='(\d+)' \\$/m.exec(script)?.[1])).toEqual(['1', '2', '3', '0']);
    expect(scripts.map((script) => /^NODE_NAME='(.+)' \\$/m.exec(script)?.[1])).toEqual([config.hostnames.node, `${config.hostnames.node}-2`, `${config.hostnames.node}-3`, `${config.hostnames.node}-agent`]);
    for (const script of scripts) {
      expect(script).toContain("\nREGISTRATION_ADDRESS='nlb.example'");
      expect(script).toContain(`\nK3S_TOKEN_SECRET='${config.secretsManager.prefix}k3s/token'`);
      expect(Buffer.byteLength(script)).toBeLessThan(USER_DATA_LIMIT_BYTES);
    }
    // The address is the load balancer's DNS name, joined in by CloudFormation.
    expect(JSON.stringify(propsOf(template, 'Server2Instance')['UserData'])).toContain('{"Fn::GetAtt":["RegistrationLoadBalancer","DNSName"]}');
  });

  it.each(['staging', 'prod'])('%s: an internal load balancer on 6443 in front of the servers, and nothing between nodes from an address range', (env) => {
    const template = renderedTemplate(env);
    expect(propsOf(template, 'RegistrationLoadBalancer')).toMatchObject({ Type: 'network', Scheme: 'internal', Subnets: [{ Ref: 'PublicSubnet' }, { Ref: 'PublicSubnetB' }, { Ref: 'PublicSubnetC' }] });
    expect(propsOf(template, 'RegistrationListener')).toMatchObject({ Port: 6443, Protocol: 'TCP' });
    expect(propsOf(template, 'RegistrationTargetGroup')['Targets']).toEqual(['NodeInstance', 'Server2Instance', 'Server3Instance'].map((id) => ({ Id: { Ref: id }, Port: 6443 })));
    const listeners = Object.values(template.Resources).filter((resource) => resource.Type === 'AWS::ElasticLoadBalancingV2::Listener');
    expect(listeners).toHaveLength(1);
    const betweenNodes = Object.entries(template.Resources).filter(([id]) => /^NodeIngress(Supervisor|Etcd|Kubelet|Flannel)$/.test(id));
    expect(betweenNodes.map(([, resource]) => [resource.Properties!['IpProtocol'], resource.Properties!['FromPort'], resource.Properties!['ToPort'], resource.Properties!['SourceSecurityGroupId']])).toEqual([
      ['tcp', 2379, 2380, { 'Fn::GetAtt': ['NodeSecurityGroup', 'GroupId'] }],
      ['udp', 8472, 8472, { 'Fn::GetAtt': ['NodeSecurityGroup', 'GroupId'] }],
      ['tcp', 10250, 10250, { 'Fn::GetAtt': ['NodeSecurityGroup', 'GroupId'] }],
      ['tcp', 6443, 6443, { 'Fn::GetAtt': ['NodeSecurityGroup', 'GroupId'] }],
    ]);
  });

  it.each(['staging', 'prod'])('%s: agents in an Auto Scaling group across the zones, from a launch template, replaced one at a time', (env) => {
    const template = renderedTemplate(env);
    const config = configOf(env);
    const group = template.Resources['AgentGroup']! as unknown as { Properties: Props; UpdatePolicy: Props };
    expect(group.Properties).toMatchObject({
      MinSize: { Ref: 'AgentMinSize' },
      MaxSize: { Ref: 'AgentMaxSize' },
      DesiredCapacity: { Ref: 'AgentDesiredCapacity' },
      LaunchTemplate: { LaunchTemplateId: { Ref: 'AgentLaunchTemplate' }, Version: { 'Fn::GetAtt': ['AgentLaunchTemplate', 'LatestVersionNumber'] } },
      VPCZoneIdentifier: [{ Ref: 'PublicSubnet' }, { Ref: 'PublicSubnetB' }, { Ref: 'PublicSubnetC' }],
    });
    expect(group.UpdatePolicy).toEqual({ AutoScalingRollingUpdate: { MaxBatchSize: 1, MinInstancesInService: config.cluster.agents.desired, PauseTime: 'PT5M' } });
    const parameters = Object.fromEntries(parameterValues(config).map((p) => [p.ParameterKey, p.ParameterValue]));
    expect(parameters).toMatchObject({ AgentInstanceType: config.cluster.agents.instanceType, AgentMinSize: String(config.cluster.agents.min), AgentMaxSize: String(config.cluster.agents.max) });
  });

  it('launches the agents with the stack\'s own Auto Scaling role, which alone the key lets encrypt their volumes', () => {
    const template = renderedTemplate('prod');
    expect(propsOf(template, 'AgentServiceLinkedRole')).toMatchObject({ AWSServiceName: 'autoscaling.amazonaws.com', CustomSuffix: 'dubai-prod' });
    const arn = { 'Fn::Sub': 'arn:${AWS::Partition}:iam::${AWS::AccountId}:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling_dubai-prod' };
    expect(propsOf(template, 'AgentGroup')['ServiceLinkedRoleARN']).toEqual(arn);
    const statements = (propsOf(template, 'KmsKey')['KeyPolicy'] as { Statement: { Sid: string; Principal: unknown; Condition?: unknown }[] }).Statement;
    expect(statements.filter((statement) => statement.Sid.startsWith('AgentVolume')).map((statement) => [statement.Sid, statement.Principal])).toEqual([
      ['AgentVolumesThroughAutoScaling', { AWS: arn }],
      ['AgentVolumeGrantsThroughAutoScaling', { AWS: arn }],
    ]);
    expect(statements.find((statement) => statement.Sid === 'AgentVolumeGrantsThroughAutoScaling')!.Condition).toEqual({ Bool: { 'kms:GrantIsForAWSResource': true } });
    // The key policy names the role, which must exist before the key.
    expect(template.Resources['KmsKey']).toMatchObject({ DependsOn: 'AgentServiceLinkedRole' });
    expect(renderedTemplate('dev').Resources['AgentServiceLinkedRole']).toBeUndefined();
  });

  it('gives the agents a role without the servers\' etcd and kubeconfig rights', () => {
    const template = renderedTemplate('prod');
    const sids = (id: string) => ((propsOf(template, id)['Policies'] as { PolicyDocument: { Statement: { Sid: string }[] } }[])[0]!.PolicyDocument.Statement.map((statement) => statement.Sid));
    expect(sids('NodeRole')).toEqual(expect.arrayContaining(['EtcdSnapshots', 'UploadKubeconfig', 'ClusterMarker']));
    expect(sids('AgentRole')).not.toEqual(expect.arrayContaining(['EtcdSnapshots']));
    expect(sids('AgentRole').filter((sid) => ['EtcdSnapshots', 'UploadKubeconfig', 'ClusterMarker'].includes(sid))).toEqual([]);
    expect(sids('AgentRole')).toEqual(['ReadBootSecrets', 'UseStackKey']);
  });

  it('registers the issuer as an IAM OIDC provider (audience sts.amazonaws.com, no thumbprint) that every component role trusts', () => {
    const template = renderedTemplate('prod');
    expect(propsOf(template, 'OidcProvider')).toMatchObject({ Url: 'https://dubai-prod-oidc-210987654323.s3.me-central-1.amazonaws.com', ClientIdList: ['sts.amazonaws.com'] });
    expect(propsOf(template, 'OidcProvider')['ThumbprintList']).toBeUndefined();
    for (const role of ['ExternalSecretsRole', 'LonghornRole', 'OpenWebUIRole']) {
      const [statement] = (propsOf(template, role)['AssumeRolePolicyDocument'] as { Statement: { Principal: unknown }[] }).Statement;
      expect(statement!.Principal, role).toEqual({ Federated: { Ref: 'OidcProvider' } });
    }
  });

  it('keeps the node roles to what the nodes need: their boot secrets, never the environment-wide secrets or the Longhorn prefix', () => {
    const template = renderedTemplate('prod');
    const policy = (id: string) => (propsOf(template, id)['Policies'] as { PolicyDocument: { Statement: { Sid: string; Action: string[]; Resource: unknown[] }[] } }[])[0]!.PolicyDocument.Statement;
    const secretsRead = (id: string) => policy(id).find((statement) => statement.Sid === 'ReadBootSecrets')!.Resource;
    expect(secretsRead('NodeRole')).toEqual([{ Ref: 'SecretK3sToken' }, { Ref: 'SecretTailscaleNodeAuthKey' }, { Ref: 'SecretK3sSaSigningKey' }]);
    expect(secretsRead('AgentRole')).toEqual([{ Ref: 'SecretK3sToken' }, { Ref: 'SecretTailscaleNodeAuthKey' }]);
    for (const id of ['NodeRole', 'AgentRole']) {
      const text = JSON.stringify(policy(id));
      expect(text, id).not.toMatch(/LonghornBackupsBucket|AttachmentsBucket|MasterUserSecret|route53/);
    }
    // External Secrets reads the environment's secrets, but not the ones only nodes read.
    const eso = JSON.stringify((propsOf(template, 'ExternalSecretsRole')['Policies'] as unknown[])[0]);
    expect(eso).toContain('SecretProvidersOpenai');
    expect(eso).toContain('MasterUserSecret.SecretArn');
    expect(eso).not.toMatch(/SecretK3sToken|SecretK3sSaSigningKey|SecretTailscaleNodeAuthKey/);
  });

  it('runs an Aurora reader in another zone than the writer in prod, with the reader endpoint in the outputs; staging and dev have none', () => {
    const prod = renderedTemplate('prod') as unknown as ParsedTemplate & { Outputs: Record<string, { Value: unknown }> };
    expect(propsOf(prod, 'AuroraWriter')['AvailabilityZone']).toEqual({ 'Fn::Select': [0, { 'Fn::GetAZs': '' }] });
    expect(propsOf(prod, 'AuroraReader1')).toMatchObject({ AvailabilityZone: { 'Fn::Select': [1, { 'Fn::GetAZs': '' }] }, PromotionTier: 0, DBClusterIdentifier: { Ref: 'AuroraCluster' }, PubliclyAccessible: false });
    expect(prod.Outputs['AuroraReaderEndpoint']!.Value).toEqual({ 'Fn::GetAtt': ['AuroraCluster', 'ReadEndpoint.Address'] });
    for (const env of ['staging', 'dev']) expect(renderedTemplate(env).Resources['AuroraReader1'], env).toBeUndefined();
  });

  it('keeps dev a single node: no load balancer, no agents, no rules between nodes', () => {
    const dev = renderedTemplate('dev');
    const types = new Set(Object.values(dev.Resources).map((resource) => resource.Type));
    for (const type of ['AWS::ElasticLoadBalancingV2::LoadBalancer', 'AWS::AutoScaling::AutoScalingGroup', 'AWS::EC2::LaunchTemplate']) expect(types.has(type), type).toBe(false);
    expect(Object.keys(dev.Resources).filter((id) => id.startsWith('NodeIngress'))).toEqual([]);
    expect(userDataScript(propsOf(dev, 'NodeInstance')['UserData'])).toContain("\nREGISTRATION_ADDRESS=''");
  });
});
