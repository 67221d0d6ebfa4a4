import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, type ConfigIssue } from '../generator/config/errors.js';
import { listEnvironments, loadEnvironment } from '../generator/config/load-environment.js';
import { FIXTURES, REPO_ROOT, tempRepo, type TempRepo } from './support/temp-repo.js';

const VALID_OUTPUTS = readFileSync(join(FIXTURES, 'valid', 'fixture.outputs.yaml'), 'utf8');
const MINIMAL = readFileSync(join(FIXTURES, 'valid', 'minimal.yaml'), 'utf8');

function expectation(text: string): { path: string; problem: string } {
  const path = /^# expect-path: ?(.*)$/m.exec(text)?.[1] ?? '';
  const problem = /^# expect-problem: (.*)$/m.exec(text)?.[1];
  if (!problem) throw new Error('fixture without "# expect-problem:" header');
  return { path: path.trim(), problem: problem.trim() };
}

let repo: TempRepo | undefined;
afterEach(() => repo?.cleanup());

function loadFixture(config: string, outputs = VALID_OUTPUTS): ConfigIssue[] {
  repo = tempRepo();
  repo.write('environments/fixture.yaml', config);
  if (outputs !== '') repo.write('environments/fixture.outputs.yaml', outputs);
  try {
    loadEnvironment(repo.root, 'fixture');
  } catch (error) {
    if (error instanceof ConfigError) return error.issues;
    throw error;
  }
  return [];
}

describe('the environment configs in the repository', () => {
  const names = listEnvironments(join(REPO_ROOT, 'environments'));

  it('are dev, staging and prod', () => {
    expect(names).toEqual(['dev', 'prod', 'staging']);
  });

  it.each(names)('%s passes the schema and every semantic check', (name) => {
    const { config, outputs } = loadEnvironment(REPO_ROOT, name);
    expect(config.name).toBe(name);
    expect(outputs.stackName).toBe(`dubai-${name}`);
  });

  it.each(names)('%s references the schema for editors', (name) => {
    const text = readFileSync(join(REPO_ROOT, 'environments', `${name}.yaml`), 'utf8');
    expect(text.split('\n')[0]).toBe('# yaml-language-server: $schema=./environment.schema.json');
  });
});

describe('a valid minimal environment', () => {
  it('loads, with schema defaults filled in', () => {
    repo = tempRepo();
    repo.write('environments/fixture.yaml', MINIMAL);
    repo.write('environments/fixture.outputs.yaml', VALID_OUTPUTS);
    const { config } = loadEnvironment(repo.root, 'fixture');
    expect(config.openWebUI.replicas).toBe(1);
    expect(config.openWebUI.image).toEqual({ repository: 'ghcr.io/open-webui/open-webui', tag: '0.11.0', digest: expect.stringMatching(/^sha256:[a-f0-9]{64}$/) });
    expect(config.k3s.version).toMatch(/^v1\.36\./);
    expect(config.aurora.deletionProtection).toBe(true);
    expect(config.redis.persistence).toEqual({ enabled: false, size: '2Gi' });
    expect(config.git.targetRevision).toBe('refs/heads/main');
  });
});

describe('invalid environment configs are refused with their own message', () => {
  const dir = join(FIXTURES, 'invalid');
  const fixtures = readdirSync(dir).filter((file) => file.endsWith('.yaml')).sort();

  it('the corpus holds at least 25 fixtures, each with a distinct expected message', () => {
    expect(fixtures.length).toBeGreaterThanOrEqual(25);
    const problems = fixtures.map((file) => expectation(readFileSync(join(dir, file), 'utf8')).problem);
    expect(new Set(problems).size).toBe(problems.length);
  });

  it.each(fixtures)('%s', (file) => {
    const text = readFileSync(join(dir, file), 'utf8');
    const expected = expectation(text);
    const issues = loadFixture(text);
    expect(issues.length, 'the fixture must be refused').toBeGreaterThan(0);
    const match = issues.find((issue) => issue.problem.includes(expected.problem));
    expect(match, `no issue says "${expected.problem}"; got:\n${issues.map((issue) => `${issue.path}: ${issue.problem}`).join('\n')}`).toBeDefined();
    // Every issue names the file, and says what was expected and how to fix it.
    expect(match!.file).toBe('environments/fixture.yaml');
    if (expected.path !== '') expect(match!.path).toBe(expected.path);
    expect(match!.expected ?? '').not.toBe('');
    expect(match!.fix ?? '').not.toBe('');
    expect(match!.line, 'the problem is located in the file').toBeGreaterThan(0);
  });
});

describe('invalid bootstrap outputs are refused', () => {
  const dir = join(FIXTURES, 'invalid-outputs');
  const fixtures = readdirSync(dir).sort();

  it.each(fixtures)('%s', (file) => {
    const text = readFileSync(join(dir, file), 'utf8');
    const expected = expectation(text);
    const issues = loadFixture(MINIMAL, text);
    const match = issues.find((issue) => issue.problem.includes(expected.problem));
    expect(match, issues.map((issue) => issue.problem).join('\n')).toBeDefined();
    expect(match!.file).toBe('environments/fixture.outputs.yaml');
    expect(match!.path).toBe(expected.path);
  });

  it('a missing outputs file says how to create it', () => {
    const issues = loadFixture(MINIMAL, '');
    expect(issues).toHaveLength(1);
    expect(issues[0]!.problem).toBe('the file does not exist');
    expect(issues[0]!.fix).toContain('npm run bootstrap -- --env fixture');
  });

  it('a missing environment file is reported, not thrown as a crash', () => {
    repo = tempRepo();
    expect(() => loadEnvironment(repo!.root, 'nowhere')).toThrowError(/environments\/nowhere\.yaml: \(file\): the file does not exist/);
  });
});

describe('error messages', () => {
  it('suggest the closest field name for a typo', () => {
    const text = readFileSync(join(FIXTURES, 'invalid', 'unknown-field-typo.yaml'), 'utf8');
    const issue = loadFixture(text).find((item) => item.path === 'aws.regoin');
    expect(issue?.fix).toContain('did you mean "region"?');
    expect(issue?.line).toBe(8); // two header comments, then the regoin line
  });

  it('never repeat a suspected secret value in full', () => {
    const text = readFileSync(join(FIXTURES, 'invalid', 'api-key-pasted.yaml'), 'utf8');
    const issues = loadFixture(text);
    const rendered = new ConfigError(issues).message;
    expect(rendered).not.toContain('sk-proj-4fJ9kQ2mX7pL3nR8');
    expect(rendered).toContain('sk-p…');
  });

  it('point at the line and column of a YAML syntax error', () => {
    const text = readFileSync(join(FIXTURES, 'invalid', 'yaml-syntax-bad-indent.yaml'), 'utf8');
    const [issue] = loadFixture(text);
    expect(issue!.line).toBeGreaterThan(1);
    expect(issue!.column).toBeGreaterThan(0);
    expect(new ConfigError([issue!]).message).toMatch(/^1 problem in the environment config:\nenvironments\/fixture\.yaml:\d+:\d+: \(file\): YAML syntax error/);
  });
});
