/**
 * Workload identity on the rendered trees (docs/workload-identity.md): every
 * pod that calls AWS gets its credentials from a projected service-account
 * token (or, for External Secrets, the store's JWT auth) and a role ARN of
 * its own environment; no static AWS key appears anywhere. Each check has a
 * case proving it fails on a planted mistake.
 */
import { describe, expect, it } from 'vitest';
import { loadEnvironment } from '../generator/config/load-environment.js';
import { checkOutputsBelong, placeholderOutputs } from '../generator/config/outputs-ownership.js';
import { looksLikeCredential } from '../generator/validate/policy/secret-use.js';
import { parseYaml } from '../generator/config/yaml-source.js';
import { stringify } from 'yaml';
import { workloadRoleArn } from '../bootstrap/names.js';
import { loadRenderedTree, podSpecOf, type RenderedManifest } from './support/rendered-tree.js';
import { REPO_ROOT } from './support/temp-repo.js';

const ENVS = ['dev', 'staging', 'prod'] as const;
const tree = loadRenderedTree();
const TOKEN_FILE = '/var/run/secrets/sts.amazonaws.com/serviceaccount/token';
const STATIC_KEY = /^(AWS_ACCESS_KEY_ID|AWS_SECRET_ACCESS_KEY|AWS_SESSION_TOKEN|S3_ACCESS_KEY_ID|S3_SECRET_ACCESS_KEY)$/;

/** What is wrong with the AWS credentials of the pods in `items` (one environment), as readable lines. */
function identityProblems(items: RenderedManifest[], roles: Record<string, string | undefined>): string[] {
  const problems: string[] = [];
  const ownRoles = new Set(Object.values(roles).filter(Boolean));
  for (const { file, manifest } of items) {
    const pod = podSpecOf(manifest);
    if (!pod) continue;
    for (const container of [...(pod.initContainers ?? []), ...pod.containers]) {
      const env = (container['env'] ?? []) as { name: string; value?: string }[];
      for (const variable of env) if (STATIC_KEY.test(variable.name)) problems.push(`${file} ${container['name']}: static AWS key variable ${variable.name}`);
      const role = env.find((variable) => variable.name === 'AWS_ROLE_ARN')?.value;
      if (role === undefined) continue;
      if (!ownRoles.has(role)) problems.push(`${file} ${container['name']}: AWS_ROLE_ARN ${role} is not a role of this environment`);
      if (env.find((variable) => variable.name === 'AWS_WEB_IDENTITY_TOKEN_FILE')?.value !== TOKEN_FILE) problems.push(`${file} ${container['name']}: no AWS_WEB_IDENTITY_TOKEN_FILE=${TOKEN_FILE}`);
      const mount = ((container['volumeMounts'] ?? []) as { name: string; mountPath: string }[]).find((m) => TOKEN_FILE.startsWith(`${m.mountPath}/`));
      const volume = ((pod['volumes'] ?? []) as Record<string, any>[]).find((v) => v['name'] === mount?.name);
      const token = volume?.['projected']?.['sources']?.find((source: Record<string, any>) => source['serviceAccountToken'])?.['serviceAccountToken'];
      if (!token) problems.push(`${file} ${container['name']}: no projected service-account token mounted at ${TOKEN_FILE}`);
      else {
        if (token['audience'] !== 'sts.amazonaws.com') problems.push(`${file} ${container['name']}: token audience ${token['audience']} is not sts.amazonaws.com`);
        if (!(token['expirationSeconds'] <= 3600)) problems.push(`${file} ${container['name']}: token lives ${token['expirationSeconds']} s, more than an hour`);
      }
    }
  }
  for (const { file, manifest } of items) {
    if (manifest.kind !== 'ExternalSecret') continue;
    const data = ((manifest['spec'] as any)?.target?.template?.data ?? {}) as Record<string, string>;
    for (const key of Object.keys(data)) if (STATIC_KEY.test(key)) problems.push(`${file}: static AWS key ${key} in the Secret template`);
  }
  return problems;
}

/**
 * What is wrong with the Longhorn web-identity policy of one environment
 * (generator/addons/longhorn-identity.ts): it must exist with its binding,
 * match only pod creation in longhorn-system for longhorn-service-account, add
 * the STS token and the environment's Longhorn role, and carry no static key.
 */
function longhornPolicyProblems(items: RenderedManifest[], roleArn: string): string[] {
  const problems: string[] = [];
  const policies = items.filter((item) => item.manifest.kind === 'MutatingAdmissionPolicy');
  const bindings = items.filter((item) => item.manifest.kind === 'MutatingAdmissionPolicyBinding');
  const policy = policies.find((item) => item.manifest.metadata.name === 'longhorn-web-identity');
  if (!policy) return ['no MutatingAdmissionPolicy longhorn-web-identity'];
  const spec = policy.manifest['spec'] as Record<string, any>;
  const where = policy.file;
  if (!bindings.some((item) => (item.manifest['spec'] as any)?.policyName === 'longhorn-web-identity' && !(item.manifest['spec'] as any)?.matchResources)) problems.push(`${where}: no MutatingAdmissionPolicyBinding of longhorn-web-identity (without narrower matchResources)`);
  if (policy.manifest.apiVersion !== 'admissionregistration.k8s.io/v1') problems.push(`${where}: apiVersion ${policy.manifest.apiVersion}, expected admissionregistration.k8s.io/v1`);
  if (spec['failurePolicy'] !== 'Fail') problems.push(`${where}: failurePolicy ${spec['failurePolicy']}, expected Fail`);
  const constraints = spec['matchConstraints'] ?? {};
  if (JSON.stringify(constraints.namespaceSelector) !== JSON.stringify({ matchLabels: { 'kubernetes.io/metadata.name': 'longhorn-system' } })) problems.push(`${where}: namespaceSelector ${JSON.stringify(constraints.namespaceSelector)} does not select longhorn-system only`);
  if (JSON.stringify(constraints.resourceRules) !== JSON.stringify([{ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE'], resources: ['pods'] }])) problems.push(`${where}: resourceRules ${JSON.stringify(constraints.resourceRules)} are not pod creation only`);
  const conditions = ((spec['matchConditions'] ?? []) as { expression: string }[]).map((condition) => condition.expression);
  if (!conditions.includes("object.spec.serviceAccountName == 'longhorn-service-account'")) problems.push(`${where}: no match condition on service account longhorn-service-account`);
  if (!conditions.some((expression) => expression.includes("'longhorn.io/component'] == 'instance-manager'"))) problems.push(`${where}: no match condition on the instance-manager label`);
  if (!conditions.some((expression) => expression.includes("v.name == 'aws-web-identity'"))) problems.push(`${where}: no condition skipping a pod that already has the token volume`);
  const mutations = JSON.stringify(spec['mutations'] ?? []);
  if (!mutations.includes('audience: \\"sts.amazonaws.com\\", expirationSeconds: 3600')) problems.push(`${where}: the mutations add no sts.amazonaws.com token of at most an hour`);
  const roles = [...mutations.matchAll(/AWS_ROLE_ARN\\", value: \\"([^\\]+)\\"/g)].map((match) => match[1]);
  if (JSON.stringify(roles) !== JSON.stringify([roleArn])) problems.push(`${where}: AWS_ROLE_ARN ${JSON.stringify(roles)}, expected this environment's Longhorn role ${roleArn}`);
  if (!mutations.includes(`AWS_WEB_IDENTITY_TOKEN_FILE\\", value: \\"${TOKEN_FILE}`)) problems.push(`${where}: no AWS_WEB_IDENTITY_TOKEN_FILE=${TOKEN_FILE}`);
  for (const name of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN']) if (mutations.includes(name)) problems.push(`${where}: the mutations set static key variable ${name}`);
  return problems;
}

const itemsOf = (env: string) => tree.filter((item) => item.env === env);
const outputsOf = (env: string) => loadEnvironment(REPO_ROOT, env).outputs;

describe.each(ENVS)('workload identity in rendered/%s', (env) => {
  const items = itemsOf(env);
  const roles = outputsOf(env).roles;

  it('gives every pod that calls AWS a projected token and its own role, and no pod a static key', () => {
    expect(identityProblems(items, roles)).toEqual([]);
    // Open WebUI stores attachments in S3 with its role; the Deployment is one of the pods checked.
    const webui = items.find((item) => item.manifest.kind === 'Deployment' && item.manifest.metadata.name === 'open-webui')!;
    const variables = podSpecOf(webui.manifest)!.containers[0]!['env'] as { name: string; value: string }[];
    expect(variables).toContainEqual({ name: 'AWS_ROLE_ARN', value: workloadRoleArn(loadEnvironment(REPO_ROOT, env).config, 'openWebUI') });
  });

  it('has External Secrets assume its role through the store (JWT auth of its annotated service account)', () => {
    const store = items.find((item) => item.manifest.kind === 'ClusterSecretStore')!;
    const ref = (store.manifest['spec'] as any).provider.aws.auth.jwt.serviceAccountRef;
    const account = items.find((item) => item.manifest.kind === 'ServiceAccount' && item.manifest.metadata.name === ref.name && item.manifest.metadata.namespace === ref.namespace);
    expect((account?.manifest.metadata.annotations as Record<string, string> | undefined)?.['eks.amazonaws.com/role-arn']).toBe(roles.externalSecrets);
  });

  it("gives the Longhorn pods that talk to S3 the environment's Longhorn role through the MutatingAdmissionPolicy, matching only longhorn-system pods of its account", () => {
    expect(longhornPolicyProblems(items, roles.longhorn)).toEqual([]);
    expect(roles.longhorn).toBe(workloadRoleArn(loadEnvironment(REPO_ROOT, env).config, 'longhorn'));
  });

  it('fails on a policy that is gone, matches more, or carries a foreign role or a static key', () => {
    expect(longhornPolicyProblems(items.filter((item) => item.manifest.kind !== 'MutatingAdmissionPolicy'), roles.longhorn)).toEqual(['no MutatingAdmissionPolicy longhorn-web-identity']);
    const planted = structuredClone(items.filter((item) => item.manifest.kind === 'MutatingAdmissionPolicy' || item.manifest.kind === 'MutatingAdmissionPolicyBinding'));
    const policy = planted.find((item) => item.manifest.kind === 'MutatingAdmissionPolicy')!;
    const spec = policy.manifest['spec'] as Record<string, any>;
    spec['failurePolicy'] = 'Ignore';
    delete spec['matchConstraints'].namespaceSelector;
    spec['matchConstraints'].resourceRules[0].operations = ['CREATE', 'UPDATE'];
    spec['matchConditions'] = spec['matchConditions'].filter((condition: { name: string }) => condition.name !== 'longhorn-service-account');
    spec['mutations'][1].applyConfiguration.expression = spec['mutations'][1].applyConfiguration.expression
      .replace(roles.longhorn!, 'arn:aws:iam::111122223333:role/other')
      .replace('AWS_REGION', 'AWS_ACCESS_KEY_ID');
    planted.find((item) => item.manifest.kind === 'MutatingAdmissionPolicyBinding')!.manifest['spec'] = { policyName: 'other' };
    expect(longhornPolicyProblems(planted, roles.longhorn!)).toEqual([
      expect.stringMatching(/no MutatingAdmissionPolicyBinding of longhorn-web-identity/),
      expect.stringMatching(/failurePolicy Ignore, expected Fail$/),
      expect.stringMatching(/namespaceSelector undefined does not select longhorn-system only$/),
      expect.stringMatching(/are not pod creation only$/),
      expect.stringMatching(/no match condition on service account longhorn-service-account$/),
      expect.stringMatching(/AWS_ROLE_ARN \["arn:aws:iam::111122223333:role\/other"\], expected this environment's Longhorn role/),
      expect.stringMatching(/static key variable AWS_ACCESS_KEY_ID$/),
    ]);
  });

  it('fails on a pod whose token is gone, on a foreign role and on a static key', () => {
    const planted = structuredClone(items.filter((item) => item.manifest.kind === 'Deployment' && item.manifest.metadata.name === 'open-webui'));
    const pod = podSpecOf(planted[0]!.manifest)!;
    pod['volumes'] = (pod['volumes'] as { name: string }[]).filter((volume) => volume.name !== 'aws-web-identity');
    const container = pod.containers[0]!;
    container['env'] = [...container['env'].map((v: { name: string; value: string }) => (v.name === 'AWS_ROLE_ARN' ? { ...v, value: 'arn:aws:iam::111122223333:role/other' } : v)), { name: 'S3_ACCESS_KEY_ID', value: 'x' }];
    expect(identityProblems(planted, roles)).toEqual([
      expect.stringMatching(/static AWS key variable S3_ACCESS_KEY_ID$/),
      expect.stringMatching(/AWS_ROLE_ARN arn:aws:iam::111122223333:role\/other is not a role of this environment$/),
      expect.stringMatching(/no projected service-account token mounted/),
    ]);
  });
});

describe('the role ARNs in the outputs file', () => {
  it("are refused when they are another environment's or another account's", () => {
    const { config } = loadEnvironment(REPO_ROOT, 'staging');
    const outputs = placeholderOutputs(config);
    outputs.roles.openWebUI = 'arn:aws:iam::210987654321:role/dubai-dev-open-webui';
    outputs.roles.certManager = 'arn:aws:iam::210987654322:role/dubai-staging-cert-manager';
    const source = parseYaml(stringify(outputs), 'environments/staging.outputs.yaml');
    const issues = checkOutputsBelong(outputs, source, config);
    expect(issues.map((issue) => `${issue.path}: ${issue.problem}`)).toEqual([
      'roles.openWebUI: role "arn:aws:iam::210987654321:role/dubai-dev-open-webui" is environment dev\'s',
      'roles.certManager: role "arn:aws:iam::210987654322:role/dubai-staging-cert-manager" is not created for staging (cert-manager gets a role only with a public ingress in a Route 53 zone)',
    ]);
    expect(checkOutputsBelong(placeholderOutputs(config), parseYaml(stringify(placeholderOutputs(config)), 'x.yaml'), config)).toEqual([]);
  });
});

describe('the plaintext-credential rule and the token path', () => {
  it('lets a *_FILE variable name a mounted file, and still flags a token written as a value', () => {
    expect(looksLikeCredential('AWS_WEB_IDENTITY_TOKEN_FILE', TOKEN_FILE)).toBe(false);
    expect(looksLikeCredential('AWS_WEB_IDENTITY_TOKEN', 'eyJhbGciOiJSUzI1NiJ9.e30.sig')).toBe(true);
    expect(looksLikeCredential('API_TOKEN_FILE', 'not a path')).toBe(true);
  });
});
