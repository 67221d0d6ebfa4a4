/**
 * The reloader add-on in the committed rendered/ tree: every workload that
 * reads a Secret filled from the RDS-managed Aurora secret names it in its
 * reload annotation, and Reloader's RBAC is Roles in exactly those namespaces
 * (plus its own, for its meta-info ConfigMap), never cluster-wide. The
 * reload-on-rotation policy rule refuses a workload whose annotation is gone.
 */
import { describe, expect, it } from 'vitest';
import { isRdsManagedSecret, RELOAD_SECRET_ANNOTATION, reloaderArgs, rotatingSecretsOf, secretsSourcedFrom } from '../generator/addons/reloader.js';
import { parseRendered, readRenderedInputs } from '../generator/validate/manifests.js';
import { checkPolicy } from '../generator/validate/policy/index.js';
import { RELOAD_RULES } from '../generator/validate/policy/reload.js';
import { renderedObjects } from '../ops/rendered.js';
import { REPO_ROOT } from './helpers/validation.js';

const ENVS = ['dev', 'staging', 'prod'];

describe.each(ENVS)('reloader add-on in rendered/%s', (env) => {
  const objects = renderedObjects(REPO_ROOT, env);
  const reloaderObjects = objects.filter((entry) => entry.application === 'reloader');

  it('annotates exactly the workloads that read a Secret filled from the RDS-managed secret, naming that Secret', () => {
    const rotating = secretsSourcedFrom(objects.map((entry) => entry.object), isRdsManagedSecret);
    // Derived, then checked against what the issue names: LiteLLM and Open WebUI read it (their Jobs are not restarted).
    expect(Object.fromEntries([...rotating].map(([namespace, names]) => [namespace, [...names].sort()]))).toEqual({ database: ['aurora-master'], litellm: ['litellm-env'], 'open-webui': ['open-webui-env'] });
    const annotated = objects.filter((entry) => entry.object.metadata?.annotations?.[RELOAD_SECRET_ANNOTATION] !== undefined).map((entry) => `${entry.kind} ${entry.namespace}/${entry.name}=${entry.object.metadata.annotations[RELOAD_SECRET_ANNOTATION]}`);
    expect(annotated.sort()).toEqual(['Deployment litellm/litellm=litellm-env', 'Deployment open-webui/open-webui=open-webui-env']);
    for (const entry of objects) expect(entry.object.metadata?.annotations?.['reloader.stakater.com/auto']).toBeUndefined();
    const readers = objects.filter((entry) => rotatingSecretsOf(entry.object, rotating).length > 0).map((entry) => `${entry.namespace}/${entry.name}`);
    expect(readers.sort()).toEqual(['litellm/litellm', 'open-webui/open-webui']);
  });

  it('binds Roles only in the target namespaces and its own, with no ClusterRole and no ConfigMap access outside its namespace', () => {
    expect(reloaderObjects.filter((entry) => entry.kind.startsWith('Cluster'))).toEqual([]);
    const roles = reloaderObjects.filter((entry) => entry.kind === 'Role');
    expect(roles.map((entry) => entry.namespace).sort()).toEqual(['litellm', 'open-webui', 'reloader']);
    for (const role of roles) {
      const resources = role.object.rules.flatMap((rule: any) => rule.resources);
      if (role.namespace === 'reloader') expect(resources).toEqual(['configmaps']);
      else {
        expect(resources).toContain('secrets');
        expect(resources).not.toContain('configmaps');
        const secretsRule = role.object.rules.find((rule: any) => rule.resources.includes('secrets'));
        expect(secretsRule.verbs.sort()).toEqual(['get', 'list', 'watch']);
      }
    }
    const bindings = reloaderObjects.filter((entry) => entry.kind === 'RoleBinding');
    expect(bindings.map((entry) => entry.namespace).sort()).toEqual(['litellm', 'open-webui', 'reloader']);
    for (const binding of bindings) expect(binding.object.subjects).toEqual([{ kind: 'ServiceAccount', name: 'reloader', namespace: 'reloader' }]);
  });

  it('runs a digest-pinned image with the annotations strategy over exactly those namespaces', () => {
    const deployment = reloaderObjects.find((entry) => entry.kind === 'Deployment')!;
    const container = deployment.object.spec.template.spec.containers[0];
    expect(container.image).toMatch(/^ghcr\.io\/stakater\/reloader:v\d+\.\d+\.\d+@sha256:[0-9a-f]{64}$/);
    expect(container.args).toEqual(reloaderArgs(['litellm', 'open-webui']));
    expect(container.args).toContain('--reload-strategy=annotations');
    expect(container.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
    expect(deployment.object.spec.template.spec.securityContext.runAsUser).toBeGreaterThan(60000);
  });

  it('the policy rule refuses the rendered tree once a reload annotation is removed', () => {
    const input = readRenderedInputs(REPO_ROOT, [env])[0]!;
    const docs = parseRendered(input).docs;
    expect(checkPolicy(env, docs, RELOAD_RULES).findings).toEqual([]);
    const litellm = docs.find((doc) => doc.object.kind === 'Deployment' && doc.object.metadata?.name === 'litellm')!;
    delete (litellm.object.metadata!.annotations as Record<string, string>)[RELOAD_SECRET_ANNOTATION];
    const findings = checkPolicy(env, docs, RELOAD_RULES).findings;
    expect(findings).toHaveLength(1);
    expect(findings[0]!.message).toContain('litellm-env');
    expect(findings[0]!.file).toBe(`rendered/${env}/litellm/deployment_litellm_litellm.yaml`);
  });
});

describe('reload-on-rotation on its fixture', () => {
  it('names the missing annotation, the auto annotation and the unwatched namespace', async () => {
    const { readFileSync } = await import('node:fs');
    const { docsFrom } = await import('./helpers/validation.js');
    const docs = docsFrom('policy/reload-on-rotation.yaml', readFileSync(`${REPO_ROOT}/test/fixtures/policy/reload-on-rotation.yaml`, 'utf8'));
    const messages = checkPolicy('fixture', docs, RELOAD_RULES).findings.map((finding) => `${finding.resource} ${finding.path}: ${finding.message.split(';')[0]}`);
    expect(messages).toHaveLength(4);
    expect(messages.filter((message) => message.includes('does not name it'))).toHaveLength(1);
    expect(messages.filter((message) => message.includes('reloader.stakater.com/auto would'))).toHaveLength(1);
    expect(messages.filter((message) => message.includes('no Reloader Deployment watches namespace app'))).toHaveLength(2);
  });
});
