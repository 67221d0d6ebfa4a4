/**
 * What each platform add-on renders, read from the committed rendered/<env>/
 * trees and compared with the environment configs they come from.
 */
import { longhornReplicaCount, schedulableNodes } from '../generator/cluster/topology.js';
import { parseAllDocuments, parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { argocdBootstrapYaml } from '../generator/argocd/bootstrap-manifests.js';
import { applications, type Resource } from '../generator/argocd/consistency.js';
import { MANUAL_SECRETS, openWebUIHost, STORAGE_CLASS } from '../generator/platform-names.js';
import { committed, copyOf, ENVIRONMENTS, environment, render, resourcesOf } from './support/environments.js';

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
  const chartOf = (app: string) => apps.find((a) => a.name === app)!.sources.find((source) => source.chart);

  it('pins every add-on chart at the version of the config', () => {
    expect(chartOf('argocd')).toMatchObject({ chart: 'argo-cd', targetRevision: config.addons.argocd.version, repoURL: config.addons.argocd.repoURL });
    expect(chartOf('external-secrets')).toMatchObject({ chart: 'external-secrets', targetRevision: config.addons.externalSecrets.version });
    expect(chartOf('longhorn')).toMatchObject({ chart: 'longhorn', targetRevision: config.addons.longhorn.version });
    expect(chartOf('tailscale')).toMatchObject({ chart: 'tailscale-operator', targetRevision: config.addons.tailscaleOperator.version });
  });

  it('reads AWS Secrets Manager in the environment region through the instance profile (no auth block, no keys)', () => {
    const store = file(resources, 'secret-store/clustersecretstore_aws-secrets-manager.yaml');
    expect(store.spec.provider).toEqual({ aws: { service: 'SecretsManager', region: config.aws.region } });
  });

  it('lets the controllers that act as the node (External Secrets, Longhorn, cert-manager) reach the instance metadata service', () => {
    const actAsNode = ['external-secrets', 'longhorn-system', 'cert-manager'];
    expect(kind(resources, 'NetworkPolicy').filter((r) => actAsNode.includes(r.manifest.metadata.namespace ?? ''))).toEqual([]);
  });

  it('backs Longhorn up to the environment bucket, disables the pre-upgrade checker, and uses the replica count from the node count', () => {
    const values = chartOf('longhorn').helm.valuesObject;
    const replicas = longhornReplicaCount(config);
    expect(values.defaultBackupStore.backupTarget).toBe(`s3://${outputs.buckets.longhornBackups}@${config.aws.region}/longhorn/`);
    expect(values.preUpgradeChecker).toEqual({ jobEnabled: false });
    expect(JSON.parse(values.defaultSettings.defaultReplicaCount)).toEqual({ v1: String(replicas), v2: String(replicas) });
    if (schedulableNodes(config) > 1) {
      // Several nodes: one copy per node and per zone, and pods of a lost node start elsewhere.
      expect(values.defaultSettings).toMatchObject({ replicaSoftAntiAffinity: false, replicaZoneSoftAntiAffinity: false, nodeDownPodDeletionPolicy: 'delete-both-statefulset-and-deployment-pod' });
    } else {
      expect(values.defaultSettings.replicaZoneSoftAntiAffinity).toBeUndefined();
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

  it('enforces restricted Pod Security everywhere but Longhorn, whose exception says why', () => {
    for (const { manifest } of kind(resources, 'Namespace')) {
      const level = manifest.metadata.labels!['pod-security.kubernetes.io/enforce'];
      if (manifest.metadata.name === 'longhorn-system') {
        expect(level).toBe('privileged');
        expect(manifest.metadata.annotations?.['policy.dubai-hub.example/allow-pod-security-restricted']).toMatch(/Longhorn/);
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
    expect(chartOf('tailscale').helm.valuesObject.proxyConfig.defaultProxyClass).toBe('hardened');
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

  it('ignores differences only where a controller owns the field, and applies server-side only where needed', () => {
    expect(apps.filter((app) => app.manifest.spec.ignoreDifferences).map((app) => app.name)).toEqual(['external-secrets']);
    expect(apps.filter((app) => app.syncOptions.includes('ServerSideApply=true')).map((app) => app.name).sort()).toEqual(['argocd', 'external-secrets']);
    expect(apps.filter((app) => app.syncOptions.includes('CreateNamespace=true'))).toEqual([]);
  });

  it('keeps no .json, kustomization.yaml or Chart.yaml in an Application folder', () => {
    expect(resources.filter((r) => /(\.json|kustomization\.ya?ml|Chart\.ya?ml)$/.test(r.file))).toEqual([]);
  });

  it('hands over exactly what the bootstrap installs: same Argo CD values and release, same platform project, same root Application', () => {
    const [helmChart, project, root] = parseAllDocuments(argocdBootstrapYaml(config)).map((doc) => doc.toJS());
    expect(parse(helmChart.spec.valuesContent)).toEqual(chartOf('argocd').helm.valuesObject);
    expect(helmChart.metadata.name).toBe(chartOf('argocd').helm.releaseName);
    expect(helmChart.spec.version).toBe(chartOf('argocd').targetRevision);
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
