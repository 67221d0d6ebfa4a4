/**
 * The messages a new engineer meets first: an empty file, an account id that
 * loses its leading zero, memory in the wrong unit, a mis-indented key and a
 * YAML syntax error, each located at the real line and column, next to a
 * look-alike that loads.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, type ConfigIssue } from '../generator/config/errors.js';
import { loadEnvironment } from '../generator/config/load-environment.js';
import { tempRepo, type TempRepo } from './support/temp-repo.js';

const FIXTURES = join(import.meta.dirname, 'fixtures');
const MINIMAL = readFileSync(join(FIXTURES, 'valid', 'minimal.yaml'), 'utf8');
const OUTPUTS = readFileSync(join(FIXTURES, 'valid', 'fixture.outputs.yaml'), 'utf8');
const invalid = (name: string) => readFileSync(join(FIXTURES, 'invalid', name), 'utf8');

let repo: TempRepo | undefined;
afterEach(() => repo?.cleanup());

function issuesOf(config: string): ConfigIssue[] {
  repo = tempRepo();
  repo.write('environments/fixture.yaml', config);
  repo.write('environments/fixture.outputs.yaml', OUTPUTS);
  try {
    loadEnvironment(repo.root, 'fixture');
    return [];
  } catch (error) {
    if (error instanceof ConfigError) return error.issues;
    throw error;
  }
}

const withMemory = (memory: string) => `${MINIMAL}redis:\n  resources:\n    limits:\n      memory: ${memory}\n`;

describe('an empty environment file', () => {
  it.each([[''], ['\n\n'], ['# yaml-language-server: $schema=./environment.schema.json\n']])('%j is "the file is empty" at line 1', (text) => {
    const [issue, ...rest] = issuesOf(text);
    expect(rest).toEqual([]);
    expect(issue).toMatchObject({ file: 'environments/fixture.yaml', path: '', line: 1, column: 1, problem: expect.stringMatching(/^the file is empty/) });
    expect(issue!.fix).toBe('copy environments/dev.yaml to environments/fixture.yaml and change name, account and hostnames');
  });

  it('a file with comments and content loads', () => {
    expect(issuesOf(`# a comment\n${MINIMAL}`)).toEqual([]);
  });
});

describe('an unquoted account id', () => {
  it('is quoted in the fix as it was written, leading zero kept', () => {
    const issue = issuesOf(invalid('account-id-leading-zero.yaml')).find((item) => item.path === 'aws.accountId');
    expect(issue?.problem).toBe('expected string, got the number 12345678901');
    expect(issue?.fix).toBe('quote the value so YAML keeps it a string: "012345678901"');
    expect(issue).toMatchObject({ line: 6, column: 14 });
  });

  it('quoted, the same id loads', () => {
    // (The outputs fixture belongs to 123456789012, so only the outputs file is refused now.)
    const issues = issuesOf(MINIMAL.replace('"123456789012"', '"012345678901"'));
    expect(issues.filter((issue) => issue.file === 'environments/fixture.yaml')).toEqual([]);
    // What remains is the outputs file naming the other account (its secret and its account-suffixed buckets).
    expect(issues.length).toBeGreaterThan(0);
    expect(issues.filter((issue) => !issue.file.endsWith('fixture.outputs.yaml'))).toEqual([]);
    expect(issues.map((issue) => issue.problem)).toContain("the secret belongs to account 123456789012, not the environment's 012345678901");
  });
});

describe('memory in the wrong unit', () => {
  it.each([
    ['2GB', '2Gi'],
    ['512mb', '512Mi'],
    ['1G', '1Gi'],
  ])('%s gets "did you mean %s"', (written, suggestion) => {
    const issue = issuesOf(withMemory(written)).find((item) => item.path === 'redis.resources.limits.memory');
    expect(issue?.fix).toBe(`did you mean "${suggestion}"? Kubernetes writes memory in binary units: Ki, Mi, Gi, Ti`);
  });

  it('a value that is no quantity gets the pattern, not a guess', () => {
    const issue = issuesOf(withMemory('lots')).find((item) => item.path === 'redis.resources.limits.memory');
    expect(issue?.fix).toBe('change the value to match the pattern ^[0-9]+(Ki|Mi|Gi|Ti)$');
  });

  it('2Gi loads', () => {
    expect(issuesOf(withMemory('2Gi'))).toEqual([]);
  });
});

describe('a mis-indented key', () => {
  it('indented too far: says so, at the key itself', () => {
    const [issue] = issuesOf(invalid('key-over-indented.yaml'));
    expect(issue).toMatchObject({ line: 7, column: 4, problem: 'YAML syntax error: "region" is mis-indented: the keys of one mapping must start at the same column', fix: 'correct the YAML at line 7, column 4' });
  });

  it('dedented out of its mapping: names the mapping it belongs to', () => {
    const issue = issuesOf(invalid('key-dedented.yaml')).find((item) => item.path === 'region');
    expect(issue).toMatchObject({ line: 7, column: 1, problem: 'unknown field "region" here: it is mis-indented, "region" is a field of aws', fix: 'indent "region" under "aws:" like the other keys of aws' });
  });

  it('an unknown field that belongs nowhere still gets the typo hint', () => {
    const issue = issuesOf(invalid('unknown-field-typo.yaml')).find((item) => item.path === 'aws.regoin');
    expect(issue?.problem).toBe('unknown field "regoin"');
  });
});

describe('YAML syntax errors', () => {
  it('an unclosed [ is reported where it opens', () => {
    const [issue] = issuesOf(invalid('yaml-flow-unclosed.yaml'));
    expect(issue).toMatchObject({ line: 7, column: 11, problem: 'YAML syntax error: a "[" is opened here and never closed' });
  });

  it('a key indented less than its siblings is reported at the key, not at the start of the line', () => {
    const [issue] = issuesOf(invalid('yaml-syntax-bad-indent.yaml'));
    expect(issue).toMatchObject({ line: 7, column: 2 });
  });
});
