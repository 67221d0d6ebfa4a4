/**
 * A gate that looked at nothing is never "ok": with no rendered manifests the
 * schema and policy gates fail and say why, with no scanned files the secrets
 * gate fails, and the upgrade check without the next minor's schemas is shown
 * as skipped. The same gates on the real tree are ok.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatReport } from '../generator/validate/cli.js';
import { runValidation } from '../generator/validate/run-validation.js';
import { repositoryCopies } from './helpers/validation.js';

const copy = repositoryCopies();

const statusLine = (report: string, gate: string) => report.split('\n').find((line) => line.trimStart().split(/\s+/)[1] === gate)?.trim().split(/\s+/)[0];

describe('gates that checked nothing', () => {
  it('fail the schema and policy gates when rendered/ holds no manifests', async () => {
    const root = copy();
    rmSync(join(root, 'rendered'), { recursive: true, force: true });
    mkdirSync(join(root, 'rendered'));
    const report = await runValidation({ root, gates: ['schema', 'policy', 'deprecations'] });
    expect(report.ok).toBe(false);
    expect(report.findings.map((finding) => finding.message).sort()).toEqual([
      'the policy gate checked nothing: no rendered manifests (run `npm run render`, or check --env)',
      'the schema gate checked nothing: no rendered manifests (run `npm run render`, or check --env)',
    ]);
    const text = formatReport(report);
    expect(statusLine(text, 'schema')).toBe('FAIL');
    expect(statusLine(text, 'policy')).toBe('FAIL');
    expect(statusLine(text, 'deprecations')).toBe('skip');
    expect(text).toContain('validate: FAILED');
  });

  it('fail the secrets gate when there is no file to scan', async () => {
    const root = copy();
    for (const folder of ['environments', 'rendered', 'bootstrap']) rmSync(join(root, folder), { recursive: true, force: true });
    mkdirSync(join(root, 'rendered'));
    const report = await runValidation({ root, gates: ['secrets'] });
    expect(report.ok).toBe(false);
    expect(report.gates).toEqual([expect.objectContaining({ gate: 'secrets', count: 0, errors: 1 })]);
    expect(report.findings[0]!.message).toBe('the secrets gate checked nothing: no files under environments/, rendered/, bootstrap/');
  });

  it('on the real tree the same gates are ok and say how much they checked', async () => {
    const report = await runValidation({ root: copy(), gates: ['schema', 'policy', 'secrets'] });
    expect(report.ok).toBe(true);
    for (const gate of report.gates) expect(gate.count, gate.gate).toBeGreaterThan(0);
    const text = formatReport(report);
    for (const gate of ['schema', 'policy', 'secrets']) expect(statusLine(text, gate)).toBe('ok');
  });
});
