/**
 * The prod template with a point-in-time restore in aurora.restores (the
 * restored cluster next to the kept source, and after --delete-old without
 * it) is clean for cfn-lint and checkov, like the rendered templates
 * (test/bootstrap-template-lint.test.ts); the restored cluster itself needs
 * no checkov skip. A restored cluster that also names
 * a master user, which RDS takes from the source, is shown to cfn-lint to prove
 * it reads these properties (W3689: ignored on a restore).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { loadConfig } from '../bootstrap/lib/environment.js';
import { renderTemplateYaml } from '../bootstrap/render.js';
import { cfnLint, checkov } from '../bootstrap/tools/lint-templates.js';
import { ensurePythonTools, REPO_ROOT, TOOL_INSTALL_TIMEOUT_MS } from '../bootstrap/tools/python-tools.js';
import type { EnvConfig } from '../generator/config/schema.js';

const scratch = mkdtempSync(join(tmpdir(), 'bootstrap-restore-lint-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
beforeAll(() => ensurePythonTools(), TOOL_INSTALL_TIMEOUT_MS);

const RESTORE = { generation: 2, restoreToTime: '2026-12-01T09:30:00Z', sourceClusterIdentifier: 'dubai-prod-auroracluster-abc123' };

function variant(name: string, keepSource: boolean, change?: (resources: Record<string, { Properties: Record<string, unknown> }>) => void): string {
  const config: EnvConfig = loadConfig(REPO_ROOT, 'prod');
  config.aurora.restores = [{ ...RESTORE, keepSource }];
  let text = renderTemplateYaml(config);
  if (change) {
    const template = parse(text) as { Resources: Record<string, { Properties: Record<string, unknown> }> };
    change(template.Resources);
    text = stringify(template);
  }
  const file = join(scratch, `${name}.yaml`);
  writeFileSync(file, text);
  return file;
}

describe('the prod template with a point-in-time restore', () => {
  it('is clean for cfn-lint, with the source kept and after it is dropped', () => {
    const result = cfnLint([variant('prod-restore-kept', true), variant('prod-restore-dropped', false)]);
    expect(result.report).toBe('');
    expect(result.ok).toBe(true);
  }, 120_000);

  it('passes checkov; the restored generation skips only what the original instances skip, each with its reason', () => {
    const result = checkov([variant('prod-restore-kept-checkov', true)]);
    expect(result.failed).toEqual([]);
    for (const skip of result.skipped) expect(skip.reason.length, `${skip.checkId} on ${skip.resource}`).toBeGreaterThan(20);
    const restored = result.skipped.filter((skip) => /G2$/.test(skip.resource)).map((skip) => `${skip.resource}:${skip.checkId}`).sort();
    expect(restored).toEqual(['AWS::RDS::DBInstance.AuroraReader1G2:CKV_AWS_118', 'AWS::RDS::DBInstance.AuroraReader1G2:CKV_AWS_157', 'AWS::RDS::DBInstance.AuroraWriterG2:CKV_AWS_118', 'AWS::RDS::DBInstance.AuroraWriterG2:CKV_AWS_157']);
    expect(result.ok).toBe(true);
  }, 180_000);

  it('is not clean when the restored cluster also names a master user (RDS ignores it on a restore)', () => {
    const result = cfnLint([variant('prod-restore-broken', true, (resources) => void (resources['AuroraClusterG2']!.Properties['MasterUsername'] = 'hubadmin'))]);
    expect(result.ok).toBe(false);
    expect(result.report).toMatch(/prod-restore-broken\.yaml:\d+:\d+:\d+:\d+:W3689:Additional properties are ignored \('MasterUsername'/);
  }, 120_000);
});
