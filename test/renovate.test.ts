/**
 * renovate.json: Renovate's own validator accepts it, and its custom managers
 * find every pinned version in environments/*.yaml and the schema defaults,
 * with the right datasource and name, so no version silently escapes
 * Renovate. The regexes run as Renovate runs them (JS RegExp, flag g, named
 * groups, over the files managerFilePatterns selects), and a cross-check runs
 * Renovate's own extraction code on the same files.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadEnvironment } from '../generator/config/load-environment.js';
import { renderEnvironment } from '../generator/render-environment.js';
import {
  checkRenovateCoverage,
  extract,
  formatCoverageProblems,
  NOT_MOVED_BY_RENOVATE,
  repositoryFiles,
  type RenovateConfig,
} from '../scripts/renovate-coverage.js';
import { renovateValidator, TOOLS_DIR, type RenovateValidator } from '../scripts/tools/project-tools.js';
import { REPO_ROOT } from './support/temp-repo.js';

const config = (): RenovateConfig & Record<string, any> => JSON.parse(readFileSync(join(REPO_ROOT, 'renovate.json'), 'utf8'));
const scratch = mkdtempSync(join(tmpdir(), 'dubai-hub-renovate-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** A git repository with the real renovate.json, schema and environments, then the given files changed. */
function fixtureRepo(name: string, files: Record<string, string>): string {
  const root = join(scratch, name);
  mkdirSync(join(root, 'generator/config'), { recursive: true });
  cpSync(join(REPO_ROOT, 'renovate.json'), join(root, 'renovate.json'));
  cpSync(join(REPO_ROOT, 'generator/config/schema.ts'), join(root, 'generator/config/schema.ts'));
  cpSync(join(REPO_ROOT, 'environments'), join(root, 'environments'), { recursive: true });
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
  }
  execFileSync('git', ['init', '-q'], { cwd: root });
  return root;
}

const devYaml = () => readFileSync(join(REPO_ROOT, 'environments/dev.yaml'), 'utf8');

describe('the Renovate custom managers cover every pinned version', () => {
  it('in the real repository: every image tag, chart version and K3s version, in each environment file and in the schema defaults', () => {
    const result = checkRenovateCoverage(REPO_ROOT, config());
    expect(formatCoverageProblems(result.problems)).toBe('');
    const found = (file: string) => result.extracted.filter((dep) => dep.file === file).map((dep) => `${dep.datasource} ${dep.depName}`);
    for (const env of ['dev', 'staging', 'prod']) {
      expect(found(`environments/${env}.yaml`)).toEqual(
        expect.arrayContaining(['docker ghcr.io/open-webui/open-webui', 'docker ghcr.io/berriai/litellm-non_root', 'docker ghcr.io/valkey-io/valkey', 'github-releases k3s-io/k3s']),
      );
    }
    expect(found('generator/config/schema.ts')).toEqual(
      expect.arrayContaining([
        'docker docker.io/library/postgres',
        'helm argo-cd',
        'helm external-secrets',
        'helm longhorn',
        'helm tailscale-operator',
        'helm cert-manager',
        'github-releases k3s-io/k3s',
        'github-releases tailscale/tailscale',
      ]),
    );
    expect(result.pins).toBeGreaterThanOrEqual(22);
    expect(Object.keys(NOT_MOVED_BY_RENOVATE)).toEqual(['node.amiId']);
  });

  it('ignores rendered/ and the test tools folder', () => {
    const files = repositoryFiles(REPO_ROOT, config());
    expect(files.some((file) => file.startsWith('rendered/'))).toBe(false);
    expect(files).toContain('environments/dev.yaml');
    expect(config().ignorePaths).toContain('rendered/**');
  });

  it('report, with file, line and the fix, pins written so that no manager finds them', () => {
    const dev = devYaml()
      // tag without its repository, as a person might write it
      .replace(/(openWebUI:\n  image:\n)    repository: \S+\n/, '$1')
      // flow style
      .replace(/(litellm:\n)  image:\n    repository: (\S+)\n    tag: (\S+)\n/, '$1  image: { repository: $2, tag: $3 }\n');
    const root = fixtureRepo('escaped', { 'environments/dev.yaml': dev });
    const text = formatCoverageProblems(checkRenovateCoverage(root, config()).problems);
    expect(text).toMatch(/environments\/dev\.yaml:\d+:10 openWebUI\.image\.tag = 0\.11\.0: no Renovate custom manager matches this pinned version/);
    expect(text).toContain('fix: write it as `repository: <image>` on the line directly above `tag: <tag>`');
    expect(text).toMatch(/environments\/dev\.yaml:\d+:\d+ litellm\.image\.tag = v1\.85\.1: no Renovate custom manager matches/);
    expect(text.split('\n').filter((line) => line.startsWith('environments/'))).toHaveLength(2);
  });

  it('report a default in the schema written in a way no manager finds', () => {
    const schema = readFileSync(join(REPO_ROOT, 'generator/config/schema.ts'), 'utf8').replace("image('ghcr.io/valkey-io/valkey', ", 'image("ghcr.io/valkey-io/valkey", ');
    const root = fixtureRepo('schema-default', { 'generator/config/schema.ts': schema });
    expect(formatCoverageProblems(checkRenovateCoverage(root, config()).problems)).toContain(
      'generator/config/schema.ts default of redis.image.tag = 8.1.4-alpine: no Renovate custom manager extracts depName=ghcr.io/valkey-io/valkey currentValue=8.1.4-alpine currentDigest=sha256:e706d1213aaba6896c162bb6a3a9e1894e1a435f28f8f856d14fab2e10aa098b datasource=docker',
    );
  });

  it('find charts overridden in an environment file, quoted tags, digests and a K3s block with more keys', () => {
    const digest = `sha256:${'ab'.repeat(32)}`;
    const dev = devYaml()
      .replace('k3s:\n', 'k3s:\n  channel: stable\n')
      .replace(/(redis:\n  enabled: true\n  image:\n    repository: \S+\n)    tag: (\S+)\n    digest: \S+\n/, `$1    tag: "$2"\n    digest: ${digest}\n`)
      .concat('addons:\n  longhorn:\n    chart: longhorn\n    repoURL: https://charts.longhorn.io\n    version: 1.12.1\n');
    const root = fixtureRepo('found', { 'environments/dev.yaml': dev });
    const result = checkRenovateCoverage(root, config());
    // k3s.channel is not in the schema: the check reports only pins, and this config is not rendered.
    expect(formatCoverageProblems(result.problems)).toBe('');
    const devDeps = result.extracted.filter((dep) => dep.file === 'environments/dev.yaml');
    expect(devDeps).toContainEqual(expect.objectContaining({ datasource: 'helm', depName: 'longhorn', registryUrl: 'https://charts.longhorn.io', currentValue: '1.12.1' }));
    expect(devDeps).toContainEqual(expect.objectContaining({ datasource: 'docker', depName: 'ghcr.io/valkey-io/valkey', currentValue: '8.1.4-alpine', currentDigest: digest }));
    expect(devDeps).toContainEqual(expect.objectContaining({ datasource: 'github-releases', depName: 'k3s-io/k3s', currentValue: 'v1.36.3+k3s1' }));
  });

  it("find the node's Tailscale version set in an environment file, and report it written where no manager looks", () => {
    const found = fixtureRepo('tailscale', { 'environments/dev.yaml': devYaml().replace(/^node:\n/m, 'node:\n  tailscale:\n    version: "1.100.0"\n') });
    const result = checkRenovateCoverage(found, config());
    expect(formatCoverageProblems(result.problems)).toBe('');
    expect(result.extracted).toContainEqual(expect.objectContaining({ file: 'environments/dev.yaml', datasource: 'github-releases', depName: 'tailscale/tailscale', currentValue: '1.100.0' }));
    const flow = fixtureRepo('tailscale-flow', { 'environments/dev.yaml': devYaml().replace(/^node:\n/m, 'node:\n  tailscale: { version: 1.100.0 }\n') });
    expect(formatCoverageProblems(checkRenovateCoverage(flow, config()).problems)).toMatch(/environments\/dev\.yaml:\d+:\d+ node\.tailscale\.version = 1\.100\.0: no Renovate custom manager matches/);
  });

  it('refuse patterns that Renovate’s RE2 engine would reject', () => {
    const broken = config();
    broken.customManagers![0]!.matchStrings = ['(?<=tag: )(?<currentValue>\\S+)'];
    const text = formatCoverageProblems(checkRenovateCoverage(REPO_ROOT, broken).problems);
    expect(text).toContain("renovate.json customManagers[0]: matchStrings uses lookbehind, which Renovate's RE2 engine rejects");
  });
});

describe('Renovate itself (pinned renovate package under Node 24 from the npm registry, in .tools/renovate)', () => {
  let validator: RenovateValidator;
  beforeAll(() => {
    validator = renovateValidator();
  }, 600_000);

  const validate = (cwd: string) => {
    const result = spawnSync(validator.node, [validator.script, '--strict'], { cwd, encoding: 'utf8', env: { ...process.env, LOG_LEVEL: 'info', RENOVATE_X_IGNORE_RE2: 'true' } });
    return { status: result.status, output: `${result.stdout}${result.stderr}` };
  };

  it('renovate-config-validator --strict accepts renovate.json', () => {
    const result = validate(REPO_ROOT);
    expect(result.output).toContain('Config validated successfully');
    expect(result.status).toBe(0);
  }, 120_000);

  it('renovate-config-validator refuses a config with an unknown option and a bad value', () => {
    const dir = join(scratch, 'invalid-config');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'renovate.json'), JSON.stringify({ ...config(), minimumReleaseAge: 'three days', labelz: ['x'] }));
    const result = validate(dir);
    expect(result.status).not.toBe(0);
    expect(result.output).toContain('Found errors in configuration');
  }, 120_000);

  const probe = (request: object) => {
    const result = spawnSync(validator.node, [join(REPO_ROOT, 'test/support/renovate-probe.mjs'), join(TOOLS_DIR, 'renovate')], {
      input: JSON.stringify(request),
      encoding: 'utf8',
      env: { ...process.env, LOG_LEVEL: 'fatal', RENOVATE_X_IGNORE_RE2: 'true' },
    });
    expect(result.status, result.stderr).toBe(0);
    return JSON.parse(result.stdout.slice(result.stdout.indexOf('{"extract"'))) as { extract: { manager: number; file: string; deps: Record<string, any>[] }[]; compile: string[] };
  };

  it('Renovate’s own extraction finds exactly what the coverage check finds', () => {
    const managers = config().customManagers!;
    const ours = extract(REPO_ROOT, config(), repositoryFiles(REPO_ROOT, config()));
    const request = [...new Set(ours.map((dep) => `${dep.manager}\t${dep.file}`))].map((key) => {
      const [manager, file] = key.split('\t');
      return { manager: Number(manager), file: file!, root: REPO_ROOT };
    });
    const theirs = probe({ managers, extract: request, compile: [] }).extract.flatMap(({ manager, file, deps }) =>
      deps.map((dep) => `${manager} ${file} ${dep['datasource']} ${dep['depName']} ${dep['currentValue']} ${dep['registryUrls']?.[0]?.replace(/\/$/, '') ?? ''}`),
    );
    const mine = ours.map((dep) => `${dep.manager} ${dep.file} ${dep.datasource} ${dep.depName} ${dep.currentValue} ${dep.registryUrl ?? ''}`);
    expect(theirs.sort()).toEqual(mine.sort());
  }, 120_000);

  it('a digest-pinning update rewrites an environment image into a config that loads and renders repository:tag@digest', () => {
    const managers = config().customManagers!;
    const root = fixtureRepo('digest', {});
    const [dev] = probe({ managers, extract: [{ manager: 0, file: 'environments/dev.yaml', root }], compile: [] }).extract;
    const valkey = dev!.deps.find((dep) => dep['depName'] === 'ghcr.io/valkey-io/valkey')!;
    const digest = `sha256:${'0123456789abcdef'.repeat(4)}`;
    const [replacement] = probe({ managers, extract: [], compile: [{ template: managers[0]!.autoReplaceStringTemplate, data: { ...valkey, newValue: '8.1.5-alpine', newDigest: digest } }] }).compile;
    const source = readFileSync(join(root, 'environments/dev.yaml'), 'utf8');
    expect(source).toContain(valkey['replaceString']);
    writeFileSync(join(root, 'environments/dev.yaml'), source.replace(valkey['replaceString'], replacement!));

    expect(parse(readFileSync(join(root, 'environments/dev.yaml'), 'utf8')).redis.image).toEqual({ repository: 'ghcr.io/valkey-io/valkey', tag: '8.1.5-alpine', digest });
    const rendered = renderEnvironment(loadEnvironment(root, 'dev'));
    const images = rendered.resources.flatMap(({ manifest }) => JSON.stringify(manifest).match(/ghcr\.io\/valkey-io\/valkey[^"]*/g) ?? []);
    expect(new Set(images)).toEqual(new Set([`ghcr.io/valkey-io/valkey:8.1.5-alpine@${digest}`]));
  }, 120_000);
});
