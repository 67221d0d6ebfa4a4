/**
 * The inputs of the Argo CD layer are refused with errors a person can act on:
 * a rendered folder without an Application, a public ingress without what its
 * certificates need, and a wrong new config field.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { applicationSettings, MissingApplicationError } from '../generator/argocd/layer.js';
import { renderContext, type Component } from '../generator/components/component.js';
import { ConfigError } from '../generator/config/errors.js';
import { loadEnvironment } from '../generator/config/load-environment.js';
import { kubernetesVersionOf } from '../generator/kubernetes-version.js';
import { environment, ROOT } from './support/environments.js';

const scratch = mkdtempSync(join(tmpdir(), 'argocd-layer-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** dev.yaml with extra lines appended, loaded from a scratch environments/ folder. */
function loadDevWith(extra: string, extraRoles = '') {
  const dir = mkdtempSync(join(scratch, 'env-'));
  writeFileSync(join(dir, 'dev.yaml'), `${readFileSync(join(ROOT, 'environments', 'dev.yaml'), 'utf8')}${extra}`);
  const outputs = readFileSync(join(ROOT, 'environments', 'dev.outputs.yaml'), 'utf8');
  writeFileSync(join(dir, 'dev.outputs.yaml'), extraRoles ? outputs.replace('\nroles:\n', `\nroles:\n${extraRoles}`) : outputs);
  return () => loadEnvironment(ROOT, 'dev', dir);
}

function issuesOf(load: () => unknown): string[] {
  try {
    load();
  } catch (error) {
    if (error instanceof ConfigError) return error.issues.map((issue) => `${issue.path}: ${issue.problem} | fix: ${issue.fix}`);
    throw error;
  }
  return [];
}

describe('Argo CD layer inputs', () => {
  it('refuses a folder that no Application would sync, naming where to add one', () => {
    const env = environment('dev');
    const context = renderContext(env, kubernetesVersionOf(env.config.k3s.version));
    const stray: Component = { enabled: () => true, info: () => ({ folder: 'grafana', description: 'x', versions: {} }), build: () => undefined };
    expect(() => applicationSettings(stray, stray.info(context), context)).toThrow(MissingApplicationError);
    expect(() => applicationSettings(stray, stray.info(context), context)).toThrow(/rendered\/dev\/grafana has no Argo CD Application: .*WORKLOAD_APPLICATIONS in generator\/argocd\/layer\.ts/);
  });

  it('accepts a public ingress with host, e-mail and hosted zone', () => {
    // A public ingress adds cert-manager's DNS-01 role, which the outputs then name.
    const load = loadDevWith(
      'publicIngress:\n  enabled: true\n  host: chat.dubai-hub.example\n  acmeEmail: platform@dubai-hub.example\n  route53HostedZoneId: Z0123456789ABCDEFGHIJ\n',
      '  certManager: arn:aws:iam::210987654321:role/dubai-dev-cert-manager\n',
    );
    expect(issuesOf(load)).toEqual([]);
  });

  it('refuses a public ingress without the hosted zone its DNS-01 certificates need', () => {
    const load = loadDevWith('publicIngress:\n  enabled: true\n  host: chat.dubai-hub.example\n  acmeEmail: platform@dubai-hub.example\n');
    expect(issuesOf(load)).toEqual(['publicIngress: a public ingress needs publicIngress.route53HostedZoneId | fix: add publicIngress.route53HostedZoneId, or set publicIngress.enabled: false']);
  });

  it('refuses a Longhorn schedule that is not a cron expression', () => {
    const load = loadDevWith('  backups:\n    cron: every night\n');
    const issues = issuesOf(load);
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatch(/^longhorn\.backups\.cron: /);
  });
});
