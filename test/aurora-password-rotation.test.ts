/**
 * Aurora's master password is managed by RDS (ManageMasterUserPassword: a
 * secret RDS owns, encrypted with the stack's key, rotated by RDS on its own
 * schedule), and every Secret that carries it is re-read often enough that
 * the apps follow a rotation: the ExternalSecrets reading the master user
 * secret refresh every 5 minutes, the others stay at 1 hour. moto cannot
 * create the Aurora cluster from CloudFormation (test/support/moto-gaps.ts,
 * gap 1), so this is checked on the template and the rendered tree.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { bootstrapTemplate } from '../bootstrap/template/stack.js';
import { OUTPUTS } from '../bootstrap/names.js';
import { REPO_ROOT } from '../bootstrap/tools/python-tools.js';
import { AURORA_CREDENTIALS_REFRESH } from '../generator/components/secret-values.js';
import { loadEnvironment } from '../generator/config/load-environment.js';

interface RenderedExternalSecret {
  metadata: { namespace: string; name: string };
  spec: { refreshInterval: string; data?: { remoteRef: { key: string } }[] };
}

function externalSecrets(env: string): RenderedExternalSecret[] {
  const folder = join(REPO_ROOT, 'rendered', env);
  return readdirSync(folder, { recursive: true, encoding: 'utf8' })
    .filter((file) => /(^|\/)externalsecret_[^/]+\.yaml$/.test(file))
    .map((file) => parse(readFileSync(join(folder, file), 'utf8')) as RenderedExternalSecret);
}

describe.each(['dev', 'staging', 'prod'])('Aurora master password rotation in %s', (env) => {
  const { config, outputs } = loadEnvironment(REPO_ROOT, env);

  it('is managed by RDS with the stack key, and no password is in the template', () => {
    const template = bootstrapTemplate(config);
    const cluster = template.Resources['AuroraCluster']!.Properties!;
    expect(cluster['ManageMasterUserPassword']).toBe(true);
    expect(cluster['MasterUserSecret']).toEqual({ KmsKeyId: { Ref: 'KmsKey' } });
    expect(cluster['MasterUserPassword']).toBeUndefined();
    expect(template.Outputs[OUTPUTS.auroraMasterUserSecretArn]?.Value).toEqual({ 'Fn::GetAtt': ['AuroraCluster', 'MasterUserSecret.SecretArn'] });
  });

  it(`re-reads the master user secret every ${AURORA_CREDENTIALS_REFRESH}, and only that secret so often`, () => {
    const all = externalSecrets(env);
    const reading = all.filter((secret) => (secret.spec.data ?? []).some((value) => value.remoteRef.key === outputs.aurora.masterUserSecretArn));
    expect(reading.map((secret) => `${secret.metadata.namespace}/${secret.metadata.name}`).sort()).toEqual(['database/aurora-master', 'litellm/litellm-env', 'open-webui/open-webui-env']);
    for (const secret of reading) expect(secret.spec.refreshInterval, secret.metadata.name).toBe('5m');
    const others = all.filter((secret) => !reading.includes(secret));
    expect(others.length).toBeGreaterThan(0);
    for (const secret of others) expect(secret.spec.refreshInterval, secret.metadata.name).toBe('1h');
  });
});
