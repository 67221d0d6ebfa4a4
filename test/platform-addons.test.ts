/**
 * What each platform add-on renders, read from the committed rendered/<env>/
 * trees and compared with the environment configs they come from.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { longhornReplicaCount, schedulableNodes } from '../generator/cluster/topology.js';
import { describe, expect, it } from 'vitest';
import { argocdBootstrapYaml } from '../generator/argocd/bootstrap-manifests.js';
import { applications, type Resource } from '../generator/argocd/consistency.js';
import { MANUAL_SECRETS, openWebUIHost, STORAGE_CLASS } from '../generator/platform-names.js';
import { committed, copyOf, ENVIRONMENTS, environment, render, resourcesOf, ROOT } from './support/environments.js';

const kind = (resources: Resource[], wanted: string) => resources.filter((r) => r.manifest.kind === wanted);
const file = (resources: Resource[], path: string) => {
  const found = resources.find((r) => r.file === path);
  if (!found) throw new Error(`${path} is not rendered`);
  return found.manifest;
};

describe.each(ENVIRONMENTS)('add-ons of %s', (name) => {
  const { config, outputs } = environment(name);
  const resources = committed(name);
  const apps = applications(resources, name);
  /** The archive each chart file of a folder says it was rendered from (its header). */
  const archivesOf = (folder: string) =>
    new Set(
      resources
        .filter((r) => r.file.startsWith(`${folder}/`))
        .map((r) => /from (charts\/\S+\.tgz) /.exec(readFileSync(join(ROOT, 'rendered', name, r.file), 'utf8').split('\n')[0]!)?.[1])
        .filter((archive) => archive !== undefined),
    );

  it('renders every add-on chart from the vendored archive of the version the config pins, and syncs plain YAML only', () => {
    expect(archivesOf('argocd')).toEqual(new Set([`charts/argo-cd-${config.addons.argocd.version}.tgz`]));
    expect(archivesOf('external-secrets')).toEqual(new Set([`charts/external-secrets-${config.addons.externalSecrets.version}.tgz`]));
    expect(archivesOf('longhorn')).toEqual(new Set([`charts/longhorn-${config.addons.longhorn.version}.tgz`]));
    expect(archivesOf('tailscale')).toEqual(new Set([`charts/tailscale-operator-${config.addons.tailscaleOperator.version}.tgz`]));
    for (const app of apps) {
      expect(app.sources, app.name).toHaveLength(1);
      expect(app.sources[0], app.name).toEqual({ repoURL: config.git.repoURL, targetRevision: config.git.targetRevision, path: `rendered/${name}/${app.name === 'root' ? 'apps' : app.name}`, directory: { recurse: false } });
    }
  });

  it("reads AWS Secrets Manager in the environment region with External Secrets' own role (JWT auth, no keys, no instance profile)", () => {
    const store = file(resources, 'secret-store/clustersecretstore_aws-secrets-manager.yaml');
    expect(store.spec.provider).toEqual({
      aws: { service: 'SecretsManager', region: config.aws.region, auth: { jwt: { serviceAccountRef: { name: 'external-secrets', namespace: 'external-secrets' } } } },
    });
    const account = file(resources, 'external-secrets/serviceaccount_external-secrets_external-secrets.yaml');
    expect(account.metadata.annotations).toEqual({ 'eks.amazonaws.com/role-arn': `arn:aws:iam::${config.aws.accountId}:role/dubai-${config.name}-external-secrets` });
  });

  it('lets no add-on reach the instance metadata service, and opens egress only in named flows', () => {
    const reachesMetadata = kind(resources, 'NetworkPolicy').filter((r) =>
      (r.manifest.spec.egress ?? []).some((rule: { to?: { ipBlock?: { cidr: string; except?: string[] } }[] }) =>
        (rule.to ?? []).some((peer) => peer.ipBlock?.cidr === '0.0.0.0/0' && !(peer.ipBlock.except ?? []).includes('169.254.169.254/32')),
      ),
    );
    expect(reachesMetadata.map((r) => r.manifest.metadata.name)).toEqual([]);
    for (const namespace of ['argocd', 'tailscale', 'external-secrets', 'longhorn-system']) {
      const folder = namespace === 'longhorn-system' ? 'longhorn' : namespace;
      expect(file(resources, `${folder}/networkpolicy_${namespace}_default-deny-all.yaml`).spec).toEqual({ podSelector: {}, policyTypes: ['Ingress', 'Egress'], ingress: [], egress: [] });
      const apiServer = file(resources, `${folder}/networkpolicy_${namespace}_allow-egress-api-server.yaml`);
      expect(apiServer.spec.egress).toEqual([{ to: [config.network.publicSubnetCidr, ...config.network.additionalPublicSubnetCidrs].map((cidr) => ({ ipBlock: { cidr } })), ports: [{ port: 6443, protocol: 'TCP' }] }]);
      // Every egress rule names its ports or stays inside the cluster (same namespace, DNS).
      for (const policy of kind(resources, 'NetworkPolicy').filter((r) => r.manifest.metadata.namespace === namespace)) {
        for (const rule of policy.manifest.spec.egress ?? []) {
          const external = (rule.to ?? []).some((peer: { ipBlock?: unknown }) => peer.ipBlock);
          if (external) expect((rule.ports ?? []).length, policy.file).toBeGreaterThan(0);
        }
      }
    }
  });

  it('backs Longhorn up to the environment bucket, disables the pre-upgrade checker, and uses the replica count from the node count', () => {
    const replicas = longhornReplicaCount(config);
    const defaults = file(resources, 'longhorn/configmap_longhorn-system_longhorn-default-resource.yaml') as unknown as { data: Record<string, string> };
    expect(parse(defaults.data['default-resource.yaml']!)['backup-target']).toBe(`s3://${outputs.buckets.longhornBackups}@${config.aws.region}/longhorn/`);
    expect(resources.filter((r) => r.file.startsWith('longhorn/job_')).map((r) => r.manifest.metadata.name).sort()).toEqual(['longhorn-post-upgrade', 'longhorn-uninstall']);
    const settings = file(resources, 'longhorn/configmap_longhorn-system_longhorn-default-setting.yaml') as unknown as { data: Record<string, string> };
    const setting = parse(settings.data['default-setting.yaml']!);
    expect(JSON.parse(setting['default-replica-count'])).toEqual({ v1: String(replicas), v2: String(replicas) });
    expect(setting['deleting-confirmation-flag']).toBe(false);
    if (schedulableNodes(config) > 1) {
      // Several nodes: one copy per node and per zone, and pods of a lost node start elsewhere.
      expect(setting).toMatchObject({ 'replica-soft-anti-affinity': false, 'replica-zone-soft-anti-affinity': false, 'node-down-pod-deletion-policy': 'delete-both-statefulset-and-deployment-pod' });
    } else {
      expect(setting['replica-zone-soft-anti-affinity']).toBeUndefined();
    }
    const storageClass = file(resources, `longhorn/storageclass_${STORAGE_CLASS}.yaml`);
    expect(storageClass).toMatchObject({ provisioner: 'driver.longhorn.io', reclaimPolicy: 'Retain', parameters: { numberOfReplicas: String(replicas) } });
    const jobs = kind(resources, 'RecurringJob').map((r) => r.manifest.spec);
    expect(jobs).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ task: 'snapshot', cron: config.longhorn.snapshots.cron, retain: config.longhorn.snapshots.retain, groups: ['default'] }),
        expect.objectContaining({ task: 'backup', cron: config.longhorn.backups.cron, retain: config.longhorn.backups.retain, groups: ['default'] }),
      ]),
    );
  });

  it('puts every PVC on the Retain StorageClass', () => {
    const claims = kind(resources, 'PersistentVolumeClaim');
    expect(claims.length).toBeGreaterThan(0);
    for (const claim of claims) expect(claim.manifest.spec.storageClassName).toBe(STORAGE_CLASS);
  });

  it('enforces restricted Pod Security everywhere but Longhorn, node-exporter and the K3s upgrade Jobs and the log collector (privileged), whose exceptions say why', () => {
    for (const { manifest } of kind(resources, 'Namespace')) {
      const level = manifest.metadata.labels!['pod-security.kubernetes.io/enforce'];
      if (manifest.metadata.name === 'longhorn-system') {
        expect(level).toBe('privileged');
        expect(manifest.metadata.annotations?.['policy.dubai-hub.example/allow-pod-security-restricted']).toMatch(/Longhorn/);
      } else if (manifest.metadata.name === 'monitoring-node') {
        expect(level).toBe('privileged');
        expect(manifest.metadata.annotations?.['policy.dubai-hub.example/allow-pod-security-restricted']).toMatch(/node-exporter needs hostNetwork, hostPID and read-only hostPath/);
      } else if (manifest.metadata.name === 'system-upgrade') {
        expect(level).toBe('privileged');
        expect(manifest.metadata.annotations?.['policy.dubai-hub.example/allow-pod-security-restricted']).toMatch(/upgrade Jobs[\s\S]*"baseline" forbids/);
      } else if (manifest.metadata.name === 'logging') {
        // The log collector's hostPath: baseline forbids every hostPath, so privileged is the narrowest level that admits it.
        expect(level).toBe('privileged');
        expect(manifest.metadata.annotations?.['policy.dubai-hub.example/allow-pod-security-restricted']).toMatch(/\/var\/log\/pods.*baseline refuses every hostPath/);
      } else {
        expect([manifest.metadata.name, level]).toEqual([manifest.metadata.name, 'restricted']);
      }
    }
  });

  it('gives the Tailscale operator its OAuth client from Secrets Manager', () => {
    const secret = file(resources, 'tailscale/externalsecret_tailscale_operator-oauth.yaml');
    const remoteKey = `${config.secretsManager.prefix}${MANUAL_SECRETS.tailscaleOAuth}`;
    expect(secret.spec.target.name).toBe('operator-oauth');
    expect(secret.spec.data).toEqual([
      expect.objectContaining({ secretKey: 'client_id', remoteRef: expect.objectContaining({ key: remoteKey, property: 'client_id' }) }),
      expect.objectContaining({ secretKey: 'client_secret', remoteRef: expect.objectContaining({ key: remoteKey, property: 'client_secret' }) }),
    ]);
    const operator = file(resources, 'tailscale/deployment_tailscale_operator.yaml');
    expect(operator.spec.template.spec.containers[0].env).toContainEqual({ name: 'PROXY_DEFAULT_CLASS', value: 'hardened' });
    expect(operator.spec.template.spec.volumes).toContainEqual(expect.objectContaining({ secret: expect.objectContaining({ secretName: 'operator-oauth' }) }));
  });

  it('publishes Open WebUI and the Argo CD UI over HTTPS on the tailnet, at the host WEBUI_URL names', () => {
    const webui = file(resources, 'open-webui/ingress_open-webui_open-webui-tailnet.yaml');
    expect(webui.spec).toEqual({ ingressClassName: 'tailscale', defaultBackend: { service: { name: 'open-webui', port: { number: 80 } } }, tls: [{ hosts: [config.hostnames.openWebUI] }] });
    expect(`${config.hostnames.openWebUI}.${config.hostnames.tailnetDomain}`).toBe(openWebUIHost(config));
    const settings = file(resources, 'open-webui/configmap_open-webui_open-webui-settings.yaml');
    expect((settings as unknown as { data: Record<string, string> }).data['WEBUI_URL']).toBe(`https://${openWebUIHost(config)}`);
    const argocd = file(resources, 'argocd/ingress_argocd_argocd-server-tailnet.yaml');
    expect(argocd.spec.defaultBackend.service).toEqual({ name: 'argocd-server', port: { number: 80 } });
    expect(argocd.spec.tls).toEqual([{ hosts: [config.hostnames.argocd] }]);
    expect(kind(resources, 'Ingress').every((r) => r.manifest.metadata.labels!['tailscale.com/proxy-class'] === 'hardened')).toBe(true);
  });

  it('ignores differences only where a controller owns the field, and applies server-side where needed (every CRD on its own)', () => {
    expect(apps.filter((app) => app.manifest.spec.ignoreDifferences).map((app) => app.name)).toEqual(['external-secrets']);
    expect(apps.filter((app) => app.syncOptions.includes('ServerSideApply=true')).map((app) => app.name).sort()).toEqual(['argocd', 'external-secrets']);
    const crds = kind(resources, 'CustomResourceDefinition');
    expect(crds.length).toBeGreaterThan(30);
    for (const crd of crds) expect(crd.manifest.metadata.annotations?.['argocd.argoproj.io/sync-options'], crd.file).toBe('Prune=false,Delete=false,ServerSideApply=true');
    expect(apps.filter((app) => app.syncOptions.includes('CreateNamespace=true'))).toEqual([]);
  });

  it('keeps no .json, kustomization.yaml or Chart.yaml in an Application folder', () => {
    expect(resources.filter((r) => /(\.json|kustomization\.ya?ml|Chart\.ya?ml)$/.test(r.file))).toEqual([]);
  });

  it('hands over exactly what the bootstrap installs: the files of argocd/ themselves, the same platform project, the same root Application', () => {
    const documents = parseAllDocuments(argocdBootstrapYaml(config)).map((doc) => doc.toJS());
    expect(documents).toHaveLength(2);
    const [project, root] = documents;
    const install = readFileSync(join(ROOT, 'rendered', name, 'bootstrap', 'argocd-install.txt'), 'utf8').split('\n').filter((line) => line !== '' && !line.startsWith('#'));
    const folder = resources.filter((r) => r.file.startsWith('argocd/'));
    // Everything but custom resources of other add-ons, namespace first, CRDs before what needs them.
    expect([...install].sort()).toEqual(folder.filter((r) => !r.manifest.apiVersion.startsWith('external-secrets.io/')).map((r) => r.file).sort());
    expect(install[0]).toBe('argocd/namespace_argocd.yaml');
    const lastCrd = Math.max(...install.map((path, index) => (path.includes('/customresourcedefinition_') ? index : -1)));
    expect(install.slice(1, lastCrd + 1).every((path) => path.includes('/customresourcedefinition_'))).toBe(true);
    expect(install.some((path) => path.includes('deployment_argocd_argocd-server'))).toBe(true);
    expect(project).toEqual(file(resources, 'apps/appproject_argocd_platform.yaml'));
    expect(root).toEqual(file(resources, 'apps/application_argocd_root.yaml'));
    expect(root.spec.source.path).toBe(`rendered/${name}/apps`);
  });
});

describe('a private repository', () => {
  it('gets its Argo CD repository Secret from Secrets Manager, labelled for Argo CD, in the argocd namespace', () => {
    const dev = copyOf(environment('dev'));
    dev.config.git.credentialsSecret = 'git/repository-credentials';
    const resources = resourcesOf(render(dev));
    const secret = file(resources, 'argocd/externalsecret_argocd_repository-credentials.yaml');
    expect(secret.spec.target.template.metadata.labels).toEqual({ 'argocd.argoproj.io/secret-type': 'repository' });
    expect(secret.spec.target.template.data).toEqual({ type: 'git', url: dev.config.git.repoURL, username: '{{ .username }}', password: '{{ .password }}' });
    expect(secret.spec.data.map((item: { remoteRef: { key: string; property: string } }) => `${item.remoteRef.key}#${item.remoteRef.property}`)).toEqual([
      'dubai/dev/git/repository-credentials#username',
      'dubai/dev/git/repository-credentials#password',
    ]);
    expect(committed('dev').some((r) => r.file.startsWith('argocd/externalsecret_'))).toBe(false);
  });
});
