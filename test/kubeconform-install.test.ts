/**
 * kubeconform is installed by the project itself (pinned, go install into the
 * git-ignored .tools/bin), and a machine without Go gets a clear message.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ensureKubeconform, KUBECONFORM_VERSION, ToolMissingError } from '../generator/validate/kubeconform.js';
import { ensureKubeconformSchemas, kindSuffix } from '../generator/validate/kubeconform-schemas.js';
import { REPO_ROOT } from './helpers/validation.js';

describe('kubeconform installation', () => {
  it('is the pinned version, built into .tools/bin, which git ignores', () => {
    const binary = ensureKubeconform();
    expect(binary).toBe(join(REPO_ROOT, '.tools', 'bin', 'kubeconform'));
    expect(readFileSync(join(REPO_ROOT, '.tools', 'bin', `.kubeconform-${KUBECONFORM_VERSION}`), 'utf8')).toContain(`@${KUBECONFORM_VERSION}`);
    const built = spawnSync('go', ['version', '-m', binary], { encoding: 'utf8' });
    expect(built.stdout).toMatch(new RegExp(`mod\\s+github\\.com/yannh/kubeconform\\s+${KUBECONFORM_VERSION.replace(/\./g, '\\.')}`));
    const ignored = spawnSync('git', ['check-ignore', '.tools/bin/kubeconform', '.tools/schemas/x'], { cwd: REPO_ROOT, encoding: 'utf8' });
    expect(ignored.stdout.trim().split('\n')).toEqual(['.tools/bin/kubeconform', '.tools/schemas/x']);
  }, 240_000);

  it('without Go on PATH, fails with a message that says what to install (never a silent skip)', () => {
    const binDir = mkdtempSync(join(tmpdir(), 'no-go-'));
    try {
      expect(() => ensureKubeconform({ binDir, path: '' })).toThrow(ToolMissingError);
      expect(() => ensureKubeconform({ binDir, path: '' })).toThrow(/Go 1\.24 or newer on PATH[\s\S]*go install github\.com\/yannh\/kubeconform\/cmd\/kubeconform@v0\.7\.0[\s\S]*not a skip/);
      expect(existsSync(join(binDir, 'kubeconform'))).toBe(false);
    } finally {
      rmSync(binDir, { recursive: true, force: true });
    }
  });
});

describe('the schema layout generated for kubeconform', () => {
  it("names one file per kind the way kubeconform's {{.ResourceKind}}{{.KindSuffix}} expects", () => {
    expect(kindSuffix('v1')).toBe('-v1');
    expect(kindSuffix('apps/v1')).toBe('-apps-v1');
    expect(kindSuffix('networking.k8s.io/v1')).toBe('-networking-v1');
    const { locations } = ensureKubeconformSchemas();
    const strictDir = locations[0]!.replace('{{.NormalizedKubernetesVersion}}{{.StrictSuffix}}/{{.ResourceKind}}{{.KindSuffix}}.json', 'v1.36.0-strict');
    for (const file of ['deployment-apps-v1.json', 'networkpolicy-networking-v1.json', 'poddisruptionbudget-policy-v1.json', 'namespace-v1.json']) {
      expect(existsSync(join(strictDir, file)), file).toBe(true);
    }
    expect(locations[0]!.startsWith(join(REPO_ROOT, '.tools', 'schemas'))).toBe(true);
  });
});
