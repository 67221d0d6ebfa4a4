/**
 * README "Adding a model", step by step, as far as it runs offline: the name
 * is refused by `npm run secrets` until the config names it, the render adds
 * the model, its ExternalSecret key and the empty secret to the stack, and
 * storing the key before the stack has created the secret says to bootstrap
 * first. The README's steps are checked to be these, in this order.
 */
import { ResourceNotFoundException, PutSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { awsClients } from '../bootstrap/lib/aws-clients.js';
import { findSettable, setSecret } from '../bootstrap/scripts/secrets.js';
import { main } from '../generator/cli.js';
import { loadEnvironment } from '../generator/config/load-environment.js';
import { readmeSection, stepPositions } from './support/readme.js';
import { copyOfRepository, type TempRepo } from './support/temp-repo.js';

let repo: TempRepo | undefined;
afterEach(() => {
  repo?.cleanup();
  vi.restoreAllMocks();
});

const MODEL = ['    - name: mistral-large', '      model: mistral/mistral-large-latest', '      apiKeySecret: providers/mistral', ''].join('\n');

describe('adding a model', () => {
  it('README lists the steps in the order that works: config, render and merge, bootstrap, then the key', async () => {
    const order = ['apiKeySecret: providers/mistral', 'npm run render', 'npm run bootstrap -- --env dev', 'npm run secrets -- set --env dev providers/mistral', 'npm run secrets -- list --env dev'];
    const positions = stepPositions(readmeSection('Adding a model'), order);
    expect(positions.filter((position) => position < 0)).toEqual([]);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
  });

  it('runs in that order offline, and storing the key first fails with a message that says what to do', async () => {
    repo = copyOfRepository();
    const before = loadEnvironment(repo.root, 'dev').config;
    expect(() => findSettable(before, 'providers/mistral')).toThrowError(/providers\/mistral is not a secret you set by hand in environment dev/);

    // 1. The config.
    const file = join(repo.root, 'environments', 'dev.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace('redis:\n', `${MODEL}redis:\n`));
    // 2. The render.
    vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    expect(await main(['--root', repo.root, '--env', 'dev'])).toBe(0);
    const rendered = (path: string) => readFileSync(join(repo!.root, 'rendered', 'dev', path), 'utf8');
    expect(rendered('litellm/configmap_litellm_litellm-config.yaml')).toContain('model: mistral/mistral-large-latest');
    expect(rendered('litellm/externalsecret_litellm_litellm-env.yaml')).toContain('key: dubai/dev/providers/mistral');
    // 3. The stack creates the empty secret (so the bootstrap comes before the key).
    expect(rendered('bootstrap/template.yaml')).toMatch(/^  SecretProvidersMistral:\n(?:    .*\n|      .*\n)*?      Name: dubai\/dev\/providers\/mistral\n/m);

    // 4. The key: accepted as a name now; before the bootstrap, Secrets Manager has no such secret.
    const config = loadEnvironment(repo.root, 'dev').config;
    expect(findSettable(config, 'providers/mistral').name).toBe('dubai/dev/providers/mistral');
    const clients = awsClients({ region: 'me-central-1', credentials: { accessKeyId: 'AKIAMOCK', secretAccessKey: 'mock' } });
    mockClient(clients.sts).on(GetCallerIdentityCommand).resolves({ Account: config.aws.accountId, Arn: `arn:aws:iam::${config.aws.accountId}:user/ops` });
    mockClient(clients.secrets).on(PutSecretValueCommand).rejects(new ResourceNotFoundException({ message: 'not found', $metadata: {} }));
    const reporter = { info: () => {}, warn: () => {} };
    await expect(setSecret(config, 'providers/mistral', 'a-provider-key-value-1234', { secrets: clients.secrets, sts: clients.sts, reporter })).rejects.toMatchObject({
      message: 'secret dubai/dev/providers/mistral does not exist yet',
      fix: 'run `npm run bootstrap -- --env dev` first; the stack creates it empty',
    });
  });
});
