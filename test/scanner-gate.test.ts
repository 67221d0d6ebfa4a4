/**
 * The scanner gate of npm run validate (checkov over the rendered Kubernetes
 * manifests and the CloudFormation stacks, kube-score over every environment,
 * accepted findings in generator/validate/scanner-allowlist.yaml): the
 * allow-list's own rules, the gate green on the committed tree, and failing on
 * a copy with planted findings (a privileged pod, a public bucket) and a stale
 * allow-list entry.
 */
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runValidation } from '../generator/validate/run-validation.js';
import { ALLOWLIST_FILE, applyAllowlist, parseAllowlist, type ScannerFinding } from '../generator/validate/scanners/allowlist.js';
import { corrupt, REPO_ROOT, repositoryCopies } from './helpers/validation.js';

const finding = (overrides: Partial<ScannerFinding> = {}): ScannerFinding => ({
  scanner: 'checkov',
  check: 'CKV_K8S_16',
  title: 'Container should not be privileged',
  env: 'dev',
  file: 'rendered/dev/redis/deployment_redis_redis.yaml',
  line: 2,
  object: 'Deployment redis/redis',
  detail: '',
  ...overrides,
});

const REASON = 'a reason long enough to say why this is accepted';

describe('the scanner allow-list', () => {
  it('covers findings by scanner, check, object or file glob and environment', () => {
    const list = parseAllowlist(
      [
        `- { scanner: checkov, check: CKV_K8S_16, objects: ["Deployment redis/*"], envs: [dev], reason: "${REASON}" }`,
        `- { scanner: kube-score, check: pod-probes, files: ["rendered/*/redis/*"], reason: "${REASON}" }`,
      ].join('\n'),
    );
    expect(list.problems).toEqual([]);
    const covered = applyAllowlist(list, [finding(), finding({ scanner: 'kube-score', check: 'pod-probes' })], { complete: true, scanners: ['checkov', 'kube-score'] });
    expect(covered).toEqual({ findings: [], allowed: 2 });
    // Another environment, another check or another scanner is not covered.
    const uncovered = applyAllowlist(list, [finding({ env: 'prod', file: 'rendered/prod/redis/deployment_redis_redis.yaml' }), finding({ check: 'CKV_K8S_20' }), finding({ scanner: 'kube-score', check: 'CKV_K8S_16' })], { complete: false, scanners: ['checkov', 'kube-score'] });
    expect(uncovered.allowed).toBe(0);
    expect(uncovered.findings).toHaveLength(3);
  });

  it('names an unlisted finding with its file, object and check, and the entry that would accept it', () => {
    const { findings } = applyAllowlist(parseAllowlist('[]'), [finding()], { complete: true, scanners: ['checkov'] });
    expect(findings).toEqual([
      expect.objectContaining({
        gate: 'scanners',
        severity: 'error',
        file: 'rendered/dev/redis/deployment_redis_redis.yaml',
        line: 2,
        resource: 'Deployment redis/redis',
        rule: 'checkov:CKV_K8S_16',
        message: `checkov CKV_K8S_16: Container should not be privileged. Fix the manifest's input (environment config, generator or chart values), or accept it with its reason in ${ALLOWLIST_FILE}: { scanner: checkov, check: CKV_K8S_16, objects: ["Deployment redis/redis"], reason: "<why this is right here>" }`,
      }),
    ]);
  });

  it('reports each glob that covers nothing as stale, at its line, but only when every environment was scanned', () => {
    const list = parseAllowlist(`# header\n- scanner: checkov\n  check: CKV_K8S_16\n  objects: ["Deployment redis/*", "Deployment gone/*"]\n  reason: "${REASON}"\n`);
    const complete = applyAllowlist(list, [finding()], { complete: true, scanners: ['checkov'] });
    expect(complete.findings).toEqual([
      expect.objectContaining({ file: ALLOWLIST_FILE, line: 2, path: '[0].objects', message: expect.stringContaining('stale entry: checkov CKV_K8S_16 finds nothing in objects Deployment gone/*') }),
    ]);
    expect(applyAllowlist(list, [finding()], { complete: false, scanners: ['checkov'] }).findings).toEqual([]);
  });

  it('refuses malformed entries with their line: unknown scanner, no check, no objects or files, no reason, unknown field', () => {
    const { entries, problems } = parseAllowlist(
      [
        `- { scanner: polaris, check: x, objects: ["*"], reason: "${REASON}" }`,
        `- { scanner: checkov, objects: ["*"], reason: "${REASON}" }`,
        `- { scanner: checkov, check: CKV_K8S_16, reason: "${REASON}" }`,
        '- { scanner: checkov, check: CKV_K8S_16, objects: ["*"], reason: short }',
        `- { scanner: checkov, check: CKV_K8S_16, object: ["*"], objects: ["*"], reason: "${REASON}" }`,
      ].join('\n'),
    );
    expect(entries).toEqual([]);
    expect(problems.map((problem) => `${problem.line} ${problem.message}`)).toEqual([
      '1 scanner must be one of checkov, kube-score, got "polaris"',
      "2 check must be the scanner's check id, e.g. CKV_K8S_16 or container-security-context-privileged",
      '3 give objects or files: which findings the entry accepts',
      '4 reason must say why the finding is accepted, in a sentence',
      '5 unknown field "object"; expected scanner, check, objects, files, envs, reason',
    ]);
  });
});

describe('the scanner gate (checkov and kube-score, from the tool cache)', () => {
  const copy = repositoryCopies();
  const withAllowlist = (root: string) => {
    mkdirSync(dirname(join(root, ALLOWLIST_FILE)), { recursive: true });
    cpSync(join(REPO_ROOT, ALLOWLIST_FILE), join(root, ALLOWLIST_FILE));
    return root;
  };

  it('is green on the committed tree, every accepted finding covered by the allow-list and no entry stale', async () => {
    const report = await runValidation({ root: withAllowlist(copy()), gates: ['scanners'] });
    expect(report.findings).toEqual([]);
    const [gate] = report.gates;
    expect(gate).toEqual(expect.objectContaining({ gate: 'scanners', ran: true, errors: 0 }));
    expect(gate!.count).toBeGreaterThan(500);
    expect(gate!.checked).toMatch(/^checkov \d+ Kubernetes \+ \d+ CloudFormation resources, kube-score \d+ objects; \d+ findings, \d+ allowed by \d+ entries$/);
  }, 600_000);

  it('fails on a privileged pod, a public bucket and a stale entry, naming file, object and check', async () => {
    const root = withAllowlist(copy());
    const redis = 'rendered/dev/redis/deployment_redis_redis.yaml';
    corrupt(root, redis, 'privileged: false', 'privileged: true');
    const template = 'rendered/dev/bootstrap/template.yaml';
    corrupt(root, template, /BlockPublicAcls: true\n(\s+)BlockPublicPolicy: true\n\s+IgnorePublicAcls: true\n\s+RestrictPublicBuckets: true/, 'BlockPublicAcls: false\n$1BlockPublicPolicy: false\n$1IgnorePublicAcls: false\n$1RestrictPublicBuckets: false');
    const allowlist = readFileSync(join(root, ALLOWLIST_FILE), 'utf8');
    writeFileSync(join(root, ALLOWLIST_FILE), `${allowlist}\n- scanner: kube-score\n  check: pod-probes\n  objects: ["Deployment nowhere/nothing"]\n  reason: "${REASON}"\n`);
    const staleLine = allowlist.split('\n').length + 1;

    const report = await runValidation({ root, gates: ['scanners'] });
    expect(report.ok).toBe(false);
    const rules = (file: string) => report.findings.filter((found) => found.file === file).map((found) => `${found.resource} ${found.rule}`);
    expect(rules(redis)).toEqual(expect.arrayContaining(['Deployment redis/redis checkov:CKV_K8S_16', 'Deployment redis/redis kube-score:container-security-context-privileged']));
    const bucketChecks = rules(template);
    expect(bucketChecks.length).toBeGreaterThan(0);
    for (const check of bucketChecks) expect(check).toMatch(/^AWS::S3::Bucket \S+ checkov:CKV_AWS_(53|54|55|56)$/);
    expect(report.findings).toContainEqual(expect.objectContaining({ file: ALLOWLIST_FILE, line: staleLine, message: expect.stringContaining('stale entry: kube-score pod-probes finds nothing in objects Deployment nowhere/nothing') }));
    // Nothing else: the plants are the only new findings.
    expect(report.findings.filter((found) => ![redis, template, ALLOWLIST_FILE].includes(found.file))).toEqual([]);
  }, 600_000);
});
