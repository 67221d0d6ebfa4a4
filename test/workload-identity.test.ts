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
