/**
 * The rendered bootstrap stacks pass cfn-lint, checkov and shellcheck (the
 * node's user data), run from .tools/venv. A missing tool fails the test
 * with the command that installs it. Each tool is also shown a broken input,
 * to prove it would catch one.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { cfnLint, checkov, renderedReplicaTemplates, renderedTemplates, shellcheck, userDataOf } from '../bootstrap/tools/lint-templates.js';
import { loadConfig } from '../bootstrap/lib/environment.js';
import { renderTemplateYaml } from '../bootstrap/render.js';
import { ensurePythonTools, REPO_ROOT, TOOL_INSTALL_TIMEOUT_MS } from '../bootstrap/tools/python-tools.js';

const templates = renderedTemplates();
const scratch = mkdtempSync(join(tmpdir(), 'bootstrap-lint-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
// Installs the pinned tools into .tools/venv on first use (a no-op once they match requirements.txt).
beforeAll(() => ensurePythonTools(), TOOL_INSTALL_TIMEOUT_MS);

/** No environment enables a public ingress yet: lint that variant of dev too. */
function publicIngressVariant(): string {
  const config = loadConfig(REPO_ROOT, 'dev');
  config.publicIngress = { enabled: true, host: 'chat.dubai-hub.example', acmeEmail: 'platform@dubai-hub.example' };
  const file = join(scratch, 'dev-public-ingress.yaml');
  writeFileSync(file, renderTemplateYaml(config));
  return file;
}
const replicas = renderedReplicaTemplates();
const linted = () => [...templates, ...replicas, publicIngressVariant()];

/** The dev template with one resource changed, written to a scratch file. */
function brokenTemplate(name: string, change: (resources: Record<string, { Type: string; Properties: Record<string, unknown> }>) => void): string {
  const template = parse(readFileSync(templates.find((file) => file.includes('/dev/'))!, 'utf8')) as { Resources: Record<string, { Type: string; Properties: Record<string, unknown> }> };
  change(template.Resources);
  const file = join(scratch, `${name}.yaml`);
  writeFileSync(file, stringify(template));
  return file;
}

describe('rendered bootstrap templates', () => {
  it('exist for every environment', () => {
    expect(templates.map((file) => file.split('/').slice(-3).join('/'))).toEqual(['dev/bootstrap/template.yaml', 'prod/bootstrap/template.yaml', 'staging/bootstrap/template.yaml']);
  });

  it('include the replica stack of the environment that replicates its backups (prod only)', () => {
    expect(replicas.map((file) => file.split('/').slice(-3).join('/'))).toEqual(['prod/bootstrap/replica.yaml']);
  });

  it('are clean for cfn-lint (with and without a public ingress)', () => {
    const result = cfnLint(linted());
    expect(result.report).toBe('');
    expect(result.ok).toBe(true);
  }, 60_000);

  it('pass checkov, every skipped check with its reason (with and without a public ingress)', () => {
    const result = checkov(linted());
    expect(result.failed).toEqual([]);
    expect(result.passed).toBeGreaterThan(200);
    expect(result.skipped.length).toBeGreaterThan(0);
    for (const skip of result.skipped) expect(skip.reason.length, `${skip.checkId} on ${skip.resource}`).toBeGreaterThan(20);
    // CKV_AWS_54/56: the OIDC bucket's policy makes exactly the two discovery documents public (bootstrap/template/identity.ts).
    expect(new Set(result.skipped.map((skip) => skip.checkId))).toEqual(new Set(['CKV_AWS_18', 'CKV_AWS_54', 'CKV_AWS_56', 'CKV_AWS_88', 'CKV_AWS_91', 'CKV_AWS_118', 'CKV_AWS_157']));
    expect(result.ok).toBe(true);
  }, 120_000);

  it('carry user data that is shellcheck clean', () => {
    const scripts = templates.flatMap((file) => userDataOf(file, readFileSync(file, 'utf8')));
    // dev: one server; staging and prod: three servers and the agents' launch template.
    expect(scripts.map((script) => script.name.split('/').slice(-3).join('/'))).toEqual([
      'dev/bootstrap/template.yaml#NodeInstance',
      'prod/bootstrap/template.yaml#AgentLaunchTemplate',
      'prod/bootstrap/template.yaml#NodeInstance',
      'prod/bootstrap/template.yaml#Server2Instance',
      'prod/bootstrap/template.yaml#Server3Instance',
      'staging/bootstrap/template.yaml#AgentLaunchTemplate',
      'staging/bootstrap/template.yaml#NodeInstance',
      'staging/bootstrap/template.yaml#Server2Instance',
      'staging/bootstrap/template.yaml#Server3Instance',
    ]);
    const result = shellcheck(scripts);
    expect(result.report).toBe('');
    expect(result.ok).toBe(true);
  }, 60_000);
});

describe('the linters catch what they are run for', () => {
  it('cfn-lint reports a property the resource type does not have', () => {
    const file = brokenTemplate('cfn-lint', (resources) => {
      resources['NodeDataVolume']!.Properties['VolumeSize'] = 100;
    });
    const result = cfnLint([file]);
    expect(result.ok).toBe(false);
    expect(result.report).toMatch(/E3002.*VolumeSize/);
  }, 60_000);

  it('checkov fails SSH from the internet and an unencrypted volume', () => {
    const file = brokenTemplate('checkov', (resources) => {
      resources['NodeSecurityGroup']!.Properties['SecurityGroupIngress'] = [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, CidrIp: '0.0.0.0/0', Description: 'ssh' }];
      resources['NodeDataVolume']!.Properties['Encrypted'] = false;
    });
    const result = checkov([file]);
    expect(result.ok).toBe(false);
    expect(result.failed.map((check) => check.checkId)).toEqual(expect.arrayContaining(['CKV_AWS_24', 'CKV_AWS_3']));
  }, 120_000);

  it('shellcheck reports an unquoted expansion', () => {
    const result = shellcheck([{ name: 'bad', text: '#!/bin/bash\nrm -rf $1/tmp\n' }]);
    expect(result.ok).toBe(false);
    expect(result.report).toMatch(/SC2086/);
  }, 60_000);
});

describe('the tool installer', () => {
  it('says what to install on a machine without Python', () => {
    const result = spawnSync('bash', [join(REPO_ROOT, 'bootstrap', 'tools', 'install.sh')], { encoding: 'utf8', env: { ...process.env, PYTHON: '/nonexistent/python3' } });
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/\/nonexistent\/python3 not found\. Install Python 3\.9 or later with venv \(Debian: apt-get install python3 python3-venv\)/);
  });
});
