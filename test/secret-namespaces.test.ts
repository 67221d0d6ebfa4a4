import { afterEach, describe, expect, it } from 'vitest';
import { environmentSecrets } from '../bootstrap/names.js';
import { ConfigError, type ConfigIssue } from '../generator/config/errors.js';
import { loadEnvironment } from '../generator/config/load-environment.js';
import { fixtureRepo, loadIssues, MINIMAL_CONFIG } from './support/config-issues.js';
import type { TempRepo } from './support/temp-repo.js';

let repo: TempRepo | undefined;
afterEach(() => repo?.cleanup());

/** The minimal environment with the first model's apiKeySecret (and optionally more YAML) replaced. */
function issuesFor(apiKeySecret: string, openWebUIExtra = ''): ConfigIssue[] {
  repo?.cleanup();
  const text = MINIMAL_CONFIG.replace('      apiKeySecret: providers/openai\n', `      apiKeySecret: ${apiKeySecret}\n`).replace('  embeddingModel: embed\n', `  embeddingModel: embed\n${openWebUIExtra}`);
  repo = fixtureRepo(text);
  return loadIssues(repo.root, 'fixture');
}

describe('provider keys live in the providers/ namespace', () => {
  it('refuses every platform secret the bootstrap stack creates, as a model key', () => {
    repo = fixtureRepo();
    const { config } = loadEnvironment(repo.root, 'fixture');
    const platform = environmentSecrets(config).filter((secret) => secret.kind !== 'provider').map((secret) => secret.reference);
    expect(platform).toEqual(expect.arrayContaining(['litellm/master-key', 'k3s/token', 'redis/password', 'k3s/sa-signing-key', 'tailscale/node-auth-key']));
    for (const reference of platform) {
      const issues = issuesFor(reference);
      expect(issues.map((issue) => `${issue.path}: ${issue.problem}`), reference).toEqual([
        `litellm.models[0].apiKeySecret: "${reference}" is a platform secret, not a provider key: LiteLLM would send it to the provider`,
      ]);
    }
  });

  it('says where, what was expected and how to fix a doubled prefix, in the house format', () => {
    const issues = issuesFor('dubai/fixture/providers/openai');
    expect(new ConfigError(issues).message).toBe(
      [
        '1 problem in the environment config:',
        'environments/fixture.yaml:24:21: litellm.models[0].apiKeySecret: "dubai/fixture/providers/openai" already carries the environment prefix "dubai/fixture/"; it would be read as "dubai/fixture/dubai/fixture/providers/openai"',
        '  expected: a name relative to secretsManager.prefix (dubai/fixture/), e.g. providers/openai',
        '  fix: write "providers/openai"',
      ].join('\n'),
    );
  });

  it.each(['providers/openai', 'providers/litellm-master-key', 'providers/dubai-openai', 'providers/k3s/token', 'providers/azure/eastus'])('accepts the look-alike %s', (reference) => {
    expect(issuesFor(reference)).toEqual([]);
  });

  it('refuses a platform secret as the OIDC client secret, and accepts a secret of its own', () => {
    const oidc = (secret: string) => `  oidc:\n    providerUrl: https://sso.example/.well-known/openid-configuration\n    clientId: open-webui\n    clientSecret: ${secret}\n`;
    expect(issuesFor('providers/openai', oidc('litellm/master-key')).map((issue) => issue.path)).toEqual(['openWebUI.oidc.clientSecret']);
    expect(issuesFor('providers/openai', oidc('openwebui/oidc-client-secret'))).toEqual([]);
    expect(issuesFor('providers/openai', oidc('dubai/prod/openwebui/oidc-client-secret'))[0]!.fix).toBe('write "openwebui/oidc-client-secret"');
  });

  it('reports a pasted key once, as a value, not also as a misnamed reference', () => {
    const issues = issuesFor('sk-proj-4fJ9kQ2mX7pL3nR8');
    expect(issues).toHaveLength(1);
    expect(issues[0]!.problem).toContain('looks like a secret value');
  });
});
