/**
 * `npm run kubeconfig`: by default a kubeconfig for the caller's own tailnet
 * identity, pointing at the Tailscale operator's API server proxy with no
 * credential in it; `--break-glass` takes the old path (K3s's admin
 * certificate from S3), which needs the bootstrap outputs.
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { HELP, main, proxyKubeconfig } from '../bootstrap/scripts/kubeconfig.js';
import { loadEnvironment } from '../generator/config/load-environment.js';
import { REPO_ROOT } from './support/temp-repo.js';

const dev = loadEnvironment(REPO_ROOT, 'dev').config;

describe('the tailnet-identity kubeconfig', () => {
  it("points at the operator's proxy hostname and carries no certificate, key or token", () => {
    const kubeconfig = parse(proxyKubeconfig(dev)) as Record<string, any>;
    expect(kubeconfig.clusters).toEqual([{ name: 'dubai-dev', cluster: { server: 'https://tailscale-operator-dev.tail4f2a9c.ts.net' } }]);
    expect(kubeconfig.users).toEqual([{ name: 'dubai-dev-tailnet', user: {} }]);
    expect(kubeconfig['current-context']).toBe('dubai-dev');
    expect(proxyKubeconfig(dev)).not.toMatch(/client-certificate|client-key|token|password|certificate-authority/);
  });

  it('uses the hostname the rendered operator Deployment registers on the tailnet', () => {
    const deployment = readFileSync(join(REPO_ROOT, 'rendered', 'dev', 'tailscale', 'deployment_tailscale_operator.yaml'), 'utf8');
    expect(deployment).toMatch(/name: OPERATOR_HOSTNAME\n\s+value: tailscale-operator-dev\n/);
    expect(deployment).toMatch(/name: APISERVER_PROXY\n\s+value: "true"\n/);
  });
});

describe('npm run kubeconfig', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it('writes the proxy kubeconfig with mode 0600 without AWS or bootstrap outputs', async () => {
    dir = mkdtempSync(join(tmpdir(), 'kubeconfig-access-'));
    const out = join(dir, 'dev.yaml');
    expect(await main(['--env', 'dev', '--root', REPO_ROOT, '--out', out])).toBe(0);
    expect(statSync(out).mode & 0o777).toBe(0o600);
    expect(readFileSync(out, 'utf8')).toBe(proxyKubeconfig(dev));
  });

  it('--break-glass takes the S3 path: it refuses placeholder outputs and writes nothing', async () => {
    dir = mkdtempSync(join(tmpdir(), 'kubeconfig-access-'));
    const out = join(dir, 'dev.yaml');
    await expect(main(['--env', 'dev', '--root', REPO_ROOT, '--out', out, '--break-glass'])).rejects.toThrow(/environments\/dev\.outputs\.yaml still holds placeholders/);
    expect(() => statSync(out)).toThrow();
  });

  it('documents both paths in its help', () => {
    expect(HELP).toContain('--break-glass');
    expect(HELP).toContain('docs/access.md');
  });
});
