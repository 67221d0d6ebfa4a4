/**
 * Who reviews what: .github/CODEOWNERS resolved as GitHub does (last matching
 * pattern wins) for real paths of the repository, and the pull-request
 * template's checklist.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from './support/temp-repo.js';

const rules = readFileSync(join(REPO_ROOT, '.github/CODEOWNERS'), 'utf8')
  .split('\n')
  .map((line) => line.trim())
  .filter((line) => line && !line.startsWith('#'))
  .map((line) => {
    const [pattern, ...owners] = line.split(/\s+/);
    return { pattern: pattern!, owners };
  });

/** CODEOWNERS patterns as GitHub reads the ones used here: `*`, `/dir/`, `/file`, `/glob*.ext`. */
function matches(pattern: string, path: string): boolean {
  if (pattern === '*') return true;
  const anchored = pattern.replace(/^\//, '');
  const regex = anchored.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*');
  return new RegExp(anchored.endsWith('/') ? `^${regex}` : `^${regex}(/|$)`).test(path);
}

const ownersOf = (path: string) => rules.filter((rule) => matches(rule.pattern, path)).pop()?.owners ?? [];

describe('CODEOWNERS', () => {
  it('asks a production approver for prod config, rendered/prod/ and bootstrap/', () => {
    for (const path of ['environments/prod.yaml', 'environments/prod.outputs.yaml', 'rendered/prod/litellm/deployment_litellm_litellm.yaml', 'rendered/prod/README.md', 'bootstrap/deploy.ts']) {
      expect(ownersOf(path), path).toContain('@dubai-hub/prod-approvers');
    }
  });

  it('leaves dev and staging to the platform team', () => {
    for (const path of ['environments/dev.yaml', 'environments/staging.yaml', 'rendered/dev/litellm/deployment_litellm_litellm.yaml', 'rendered/staging/README.md', 'generator/cli.ts']) {
      expect(ownersOf(path), path).toEqual(['@dubai-hub/platform']);
    }
  });

  it('protects the review rules themselves', () => {
    for (const path of ['.github/CODEOWNERS', '.github/workflows/ci.yml', 'renovate.json', '.husky/pre-commit']) {
      expect(ownersOf(path), path).toContain('@dubai-hub/prod-approvers');
    }
  });
});

describe('the pull-request template', () => {
  const template = readFileSync(join(REPO_ROOT, '.github/pull_request_template.md'), 'utf8');

  it('is a reviewer checklist pointing at the rendered-diff comment and the local command', () => {
    expect(template).toContain('## Reviewer\'s checklist');
    expect(template).toContain('npm run diff -- --base origin/main');
    expect(template.match(/^- \[ \] /gm)?.length).toBeGreaterThanOrEqual(6);
  });
});
