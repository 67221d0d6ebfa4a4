import { cpSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { main } from '../generator/cli.js';
import { checkAcrossEnvironments, readEnvironmentSources } from '../generator/config/cross-environment-checks.js';
import { formatIssue } from '../generator/config/errors.js';
import { listEnvironments } from '../generator/config/load-environment.js';
import { FIXTURES, REPO_ROOT, tempRepo, type TempRepo } from './support/temp-repo.js';

const DIR = join(FIXTURES, 'cross-environment');
const CASES = readdirSync(DIR).sort();

let repo: TempRepo | undefined;
afterEach(() => {
  repo?.cleanup();
  repo = undefined;
  vi.restoreAllMocks();
});

function caseRepo(name: string): TempRepo {
  repo = tempRepo();
  cpSync(join(DIR, name), join(repo.root, 'environments'), { recursive: true });
  return repo;
}

function issuesIn(root: string) {
  return checkAcrossEnvironments(readEnvironmentSources(root, listEnvironments(join(root, 'environments'))));
}

function header(root: string): { file: string; path: string; problem: string; names: string } {
  for (const file of readdirSync(join(root, 'environments'))) {
    const text = readFileSync(join(root, 'environments', file), 'utf8');
    const field = (key: string) => new RegExp(`^# expect-${key}: (.*)$`, 'm').exec(text)?.[1]?.trim();
    const problem = field('problem');
    if (problem) return { file: field('file')!, path: field('path')!, problem, names: field('names')! };
  }
  throw new Error('no file of the case has an "# expect-problem:" header');
}

describe('rules across environments', () => {
  it('has a fixture pair for every rule, each refused with its own message', async () => {
    expect(CASES).toEqual(['duplicate-tailnet-hostname', 'nested-secrets-prefix', 'overlapping-vpc-same-account-region', 'shared-stack-name']);
  });

  it.each(CASES)('%s is refused, naming both files', (name) => {
    const { root } = caseRepo(name);
    const expected = header(root);
    const issues = issuesIn(root);
    const match = issues.find((issue) => issue.problem.includes(expected.problem));
    expect(match, issues.map(formatIssue).join('\n')).toBeDefined();
    expect(match!.file).toBe(expected.file);
    expect(match!.path).toBe(expected.path);
    expect(match!.line).toBeGreaterThan(0);
    expect(match!.problem).toMatch(new RegExp(`${expected.names}\\.(outputs\\.)?yaml:\\d+:\\d+ \\(`));
    expect(match!.expected ?? '').not.toBe('');
    expect(match!.fix ?? '').not.toBe('');
  });

  it('npm run render refuses the pair and writes nothing', async () => {
    const { root } = caseRepo('duplicate-tailnet-hostname');
    const stderr: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => (stderr.push(String(chunk)), true));
    vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    expect(await main(['--root', root])).toBe(1);
    expect(stderr.join('')).toMatch(/^environments\/beta\.yaml:\d+:\d+: hostnames\.openWebUI: tailnet hostname "chat-alpha\.tail0000\.ts\.net" collides with "chat-alpha\.tail0000\.ts\.net" of environment alpha at environments\/alpha\.yaml:\d+:\d+ \(hostnames\.openWebUI\)$/m);
    expect(stderr.join('')).toContain('Nothing was written');
    expect(existsSync(join(root, 'rendered'))).toBe(false);
  });

  it('accepts the repository environments', async () => {
    expect(issuesIn(REPO_ROOT)).toEqual([]);
  });

  describe('accepts look-alikes', () => {
    const edit = (root: string, file: string, from: string, to: string) => {
      const path = join(root, 'environments', file);
      const text = readFileSync(path, 'utf8');
      expect(text).toContain(from);
      writeFileSync(path, text.replace(from, to));
    };

    it('the same machine name on another tailnet', async () => {
      const { root } = caseRepo('duplicate-tailnet-hostname');
      edit(root, 'beta.yaml', 'tailnetDomain: tail0000.ts.net', 'tailnetDomain: tail1111.ts.net');
      expect(issuesIn(root)).toEqual([]);
    });

    it('the same VPC range in another account, or in another region', async () => {
      const { root } = caseRepo('overlapping-vpc-same-account-region');
      edit(root, 'beta.yaml', 'accountId: "123456789012"', 'accountId: "123456789013"');
      expect(issuesIn(root)).toEqual([]);
      edit(root, 'beta.yaml', 'accountId: "123456789013"', 'accountId: "123456789012"');
      edit(root, 'beta.yaml', 'region: me-central-1', 'region: eu-central-1');
      expect(issuesIn(root)).toEqual([]);
    });

    it('a prefix that only starts with the same letters', async () => {
      const { root } = caseRepo('nested-secrets-prefix');
      edit(root, 'beta.yaml', 'prefix: dubai/alpha/beta/', 'prefix: dubai/alpha-beta/');
      expect(issuesIn(root)).toEqual([]);
    });

    it("each environment's own stack and buckets", () => {
      const { root } = caseRepo('shared-stack-name');
      writeFileSync(join(root, 'environments', 'beta.outputs.yaml'), readFileSync(join(root, 'environments', 'alpha.outputs.yaml'), 'utf8').replaceAll('dubai-alpha', 'dubai-beta'));
      expect(issuesIn(root)).toEqual([]);
    });
  });
});
