/**
 * Every policy rule rejects its fixture (test/fixtures/policy/<rule-id>.yaml),
 * the committed rendered/ tree passes them all, and exceptions work only as
 * annotations that name a rule and give a reason, and are reported.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { POLICY_EXCEPTION_PREFIX } from '../generator/policy-exceptions.js';
import { parseRendered, readRenderedInputs } from '../generator/validate/manifests.js';
import { checkPolicy, POLICY_RULES } from '../generator/validate/policy/index.js';
import { docsFrom, REPO_ROOT } from './helpers/validation.js';

const FIXTURES = join(REPO_ROOT, 'test', 'fixtures', 'policy');
const fixture = (ruleId: string) => readFileSync(join(FIXTURES, `${ruleId}.yaml`), 'utf8');

describe('policy rules', () => {
  it('each have an id, a one-line reason and the public checks they mirror', () => {
    const ids = POLICY_RULES.map((rule) => rule.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const rule of POLICY_RULES) {
      expect(rule.id).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
      expect(rule.reason).not.toMatch(/\n/);
      expect(rule.reason.length).toBeGreaterThan(20);
      expect(rule.mirrors.length).toBeGreaterThan(0);
    }
    expect(ids).toEqual(expect.arrayContaining(['read-only-root-filesystem', 'privileged-container', 'no-plaintext-secret-env', 'network-policy-selects-pod', 'pvc-data-safety']));
  });

  it('have exactly one fixture each, and no fixture without a rule', () => {
    const fixtures = readdirSync(FIXTURES).filter((file) => file.endsWith('.yaml')).map((file) => file.replace(/\.yaml$/, '')).sort();
    expect(fixtures).toEqual(POLICY_RULES.map((rule) => rule.id).sort());
  });

  it.each(POLICY_RULES.map((rule) => rule.id))('%s rejects its fixture, naming the file and the field', (ruleId) => {
    const rule = POLICY_RULES.find((candidate) => candidate.id === ruleId)!;
    const { findings } = checkPolicy('fixture', docsFrom(`policy/${ruleId}.yaml`, fixture(ruleId)), [rule]);
    expect(findings.length).toBeGreaterThan(0);
    for (const finding of findings) {
      expect(finding.rule).toBe(ruleId);
      expect(finding.file).toBe(`rendered/fixture/policy/${ruleId}.yaml`);
      expect(finding.path).not.toBe('');
      expect(finding.line).toBeGreaterThan(0);
      expect(finding.message.length).toBeGreaterThan(10);
    }
  });

  it('find nothing in the committed rendered/ tree, whose only exceptions are annotated and reported', () => {
    const inputs = readRenderedInputs(REPO_ROOT);
    const results = inputs.map((input) => checkPolicy(input.env, parseRendered(input).docs));
    expect(results.flatMap((result) => result.findings)).toEqual([]);
    const exceptions = results.flatMap((result) => result.exceptions);
    expect(exceptions.map((exception) => exception.rule)).toContain('read-only-root-filesystem');
    for (const exception of exceptions) expect(exception.reason.length).toBeGreaterThan(10);
  });
});

describe('no-plaintext-secret-env', () => {
  it('tells credentials from settings that merely contain a credential-like word', () => {
    const yaml = `apiVersion: v1
kind: ConfigMap
metadata: { name: settings, namespace: fixture }
data:
  TOKENIZERS_PARALLELISM: "false"
  ENABLE_API_KEY: "True"
  S3_KEY_PREFIX: open-webui
  MAX_TOKENS: "4096"
  REDIS_KEY_PREFIX: open-webui
  LITELLM_MASTER_KEY: sk-1234
  dbPassword: hunter2
`;
    const rule = POLICY_RULES.filter((candidate) => candidate.id === 'no-plaintext-secret-env');
    const { findings } = checkPolicy('fixture', docsFrom('settings.yaml', yaml), rule);
    expect(findings.map((finding) => finding.path)).toEqual(['data.LITELLM_MASTER_KEY', 'data.dbPassword']);
  });

  it("checks the static data of ESO's Fake generator (settings Secrets) the same way", () => {
    const yaml = `apiVersion: generators.external-secrets.io/v1alpha1
kind: Fake
metadata: { name: longhorn-backup-target, namespace: fixture }
spec:
  data:
    AWS_IAM_ROLE_ARN: arn:aws:iam::123456789012:role/dubai-dev-longhorn
    AWS_SECRET_ACCESS_KEY: wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY
`;
    const rule = POLICY_RULES.filter((candidate) => candidate.id === 'no-plaintext-secret-env');
    const { findings } = checkPolicy('fixture', docsFrom('fake.yaml', yaml), rule);
    expect(findings.map((finding) => finding.path)).toEqual(['spec.data.AWS_SECRET_ACCESS_KEY']);
  });
});

describe('policy exceptions', () => {
  const annotate = (yaml: string, annotations: Record<string, string>) =>
    yaml.replace(/^metadata:\n/m, `metadata:\n  annotations:\n${Object.entries(annotations).map(([key, value]) => `    ${key}: ${JSON.stringify(value)}`).join('\n')}\n`);

  it('an annotation naming the rule with a reason turns the finding into a reported exception', () => {
    const yaml = annotate(fixture('read-only-root-filesystem'), { [`${POLICY_EXCEPTION_PREFIX}read-only-root-filesystem`]: 'the tool writes its cache next to its binary' });
    const result = checkPolicy('fixture', docsFrom('exception.yaml', yaml));
    expect(result.findings.filter((finding) => finding.rule === 'read-only-root-filesystem')).toEqual([]);
    expect(result.exceptions).toEqual([
      { file: 'rendered/fixture/exception.yaml', resource: 'Pod fixture/writable', rule: 'read-only-root-filesystem', reason: 'the tool writes its cache next to its binary' },
    ]);
  });

  it('the Longhorn namespace is the documented exception to restricted pod security', () => {
    const yaml = `apiVersion: v1
kind: Namespace
metadata:
  name: longhorn-system
  annotations:
    ${POLICY_EXCEPTION_PREFIX}pod-security-restricted: "Longhorn manager, engine and CSI pods are privileged; they come from the Longhorn Helm chart"
  labels: { pod-security.kubernetes.io/enforce: privileged }
`;
    const result = checkPolicy('fixture', docsFrom('longhorn.yaml', yaml));
    expect(result.findings).toEqual([]);
    expect(result.exceptions.map((exception) => exception.rule)).toEqual(['pod-security-restricted']);
    expect(checkPolicy('fixture', docsFrom('longhorn.yaml', yaml.replace(/ {2}annotations:\n.*\n/, ''))).findings.map((finding) => finding.rule)).toEqual(['pod-security-restricted']);
  });

  it('an annotation for an unknown rule, or without a reason, is itself a finding and excuses nothing', () => {
    const unknown = checkPolicy('fixture', docsFrom('unknown.yaml', annotate(fixture('read-only-root-filesystem'), { [`${POLICY_EXCEPTION_PREFIX}read-only-rootfs`]: 'a typo in the rule id' })));
    expect(unknown.findings.map((finding) => finding.rule)).toEqual(expect.arrayContaining(['policy-exception', 'read-only-root-filesystem']));
    expect(unknown.findings.find((finding) => finding.rule === 'policy-exception')!.message).toMatch(/names no policy rule "read-only-rootfs"/);

    const noReason = checkPolicy('fixture', docsFrom('no-reason.yaml', annotate(fixture('read-only-root-filesystem'), { [`${POLICY_EXCEPTION_PREFIX}read-only-root-filesystem`]: 'ok' })));
    expect(noReason.findings.map((finding) => finding.rule)).toEqual(expect.arrayContaining(['policy-exception', 'read-only-root-filesystem']));
    expect(noReason.exceptions).toEqual([]);
  });
});
