/**
 * The committed rendered/<env>/ trees are deliverable by their Argo CD layer,
 * and each check of that layer rejects a tree that breaks its rule.
 */
import { describe, expect, it } from 'vitest';
import {
  applications,
  checkApplicationPolicy,
  checkArgocdLayer,
  checkCoverage,
  checkCrdOrder,
  checkNamespaces,
  checkProjects,
  checkSecretStore,
  CLIENT_SIDE_APPLY_LIMIT,
  type Resource,
} from '../generator/argocd/consistency.js';
import { committed, ENVIRONMENTS, environment, facts } from './support/environments.js';

const find = (resources: Resource[], file: string): Resource => {
  const resource = resources.find((item) => item.file === file);
  if (!resource) throw new Error(`${file} is not rendered`);
  return resource;
};
const without = (resources: Resource[], file: string) => {
  find(resources, file);
  return resources.filter((item) => item.file !== file);
};

describe.each(ENVIRONMENTS)('rendered/%s', (name) => {
  const resources = committed(name);
  const env = environment(name);
  const apps = applications(resources, name);

  it('has an Argo CD layer at all', () => {
    expect(apps.map((app) => app.name)).toEqual(expect.arrayContaining(['root', 'argocd', 'external-secrets', 'secret-store', 'longhorn', 'longhorn-backups', 'tailscale', 'tailscale-proxies', 'open-webui']));
  });

  it('syncs every folder except bootstrap/, and every file, with exactly one Application', () => {
    expect(checkCoverage(resources, name)).toEqual([]);
  });

  it('gives every Application the finalizer, automated sync, retry, refresh paths, a full ref and server-side apply where needed', () => {
    expect(checkApplicationPolicy(resources, name)).toEqual([]);
  });

  it('renders or creates every namespace before what lives in it', () => {
    expect(checkNamespaces(resources, name, facts(env))).toEqual([]);
  });

  it('syncs every custom resource after the Application that syncs its CRD, every CRD being rendered', () => {
    expect(checkCrdOrder(resources, name, facts(env))).toEqual([]);
  });

  it('reads every ExternalSecret from the one store, from a namespace it admits', () => {
    expect(checkSecretStore(resources)).toEqual([]);
  });

  it('allows in the AppProjects everything their Applications deploy, and nothing uses default', () => {
    expect(checkProjects(resources, name)).toEqual([]);
    expect(apps.every((app) => app.project === 'platform' || app.project === 'apps')).toBe(true);
  });

  it('orders waves: CRD add-ons, secret store, add-ons with secrets, Argo CD, then database set-up, migrations, workloads', () => {
    const wave = (app: string) => apps.find((item) => item.name === app)!.wave;
    expect(wave('external-secrets')).toBeLessThan(wave('secret-store'));
    expect(wave('longhorn')).toBeLessThan(wave('longhorn-backups'));
    expect(wave('secret-store')).toBeLessThan(wave('tailscale'));
    expect(wave('tailscale')).toBeLessThan(wave('tailscale-proxies'));
    expect(wave('tailscale-proxies')).toBeLessThan(wave('argocd'));
    expect(wave('argocd')).toBeLessThan(wave('database'));
    expect(wave('database')).toBeLessThan(wave('litellm'));
    expect(wave('litellm')).toBeLessThan(wave('open-webui'));
  });
});

describe('each check rejects a tree that breaks its rule', () => {
  const name = 'dev';
  const env = environment(name);
  const base = () => structuredClone(committed(name));
  const app = (resources: Resource[], appName: string) => find(resources, `apps/application_argocd_${appName}.yaml`).manifest;

  it('accepts the committed tree as a whole', () => {
    expect(checkArgocdLayer(base(), name, facts(env))).toEqual([]);
  });

  it('a folder without an Application', () => {
    const problems = checkCoverage(without(base(), 'apps/application_argocd_redis.yaml'), name);
    expect(problems).toContain('folder redis/ is synced by 0 Applications (none); expected exactly one');
  });

  it('a folder synced twice, and a recursive source that syncs files twice', () => {
    const resources = base();
    const copy = structuredClone(find(resources, 'apps/application_argocd_redis.yaml'));
    copy.file = 'apps/application_argocd_redis-again.yaml';
    copy.manifest.metadata.name = 'redis-again';
    resources.push(copy);
    expect(checkCoverage(resources, name)).toContain('folder redis/ is synced by 2 Applications (redis, redis-again); expected exactly one');

    const recursive = base();
    const root = app(recursive, 'root');
    root.spec.source.path = `rendered/${name}`;
    root.spec.source.directory.recurse = true;
    expect(checkCoverage(recursive, name).some((problem) => /open-webui\/deployment_open-webui_open-webui\.yaml is synced by 2 Applications/.test(problem))).toBe(true);
  });

  it('an Application without finalizer, using default, or syncing an object too large for client-side apply', () => {
    const resources = base();
    app(resources, 'redis').metadata.finalizers = [];
    const eso = app(resources, 'external-secrets');
    eso.spec.syncPolicy.syncOptions = eso.spec.syncPolicy.syncOptions.filter((option: string) => option !== 'ServerSideApply=true');
    // The CRDs carry their own ServerSideApply=true; without it, the Application's option is what is left.
    const crd = find(resources, 'external-secrets/customresourcedefinition_clustersecretstores.external-secrets.io.yaml').manifest;
    delete crd.metadata.annotations!['argocd.argoproj.io/sync-options'];
    expect(Buffer.byteLength(JSON.stringify(crd))).toBeGreaterThan(CLIENT_SIDE_APPLY_LIMIT);
    app(resources, 'database').spec.project = 'default';
    app(resources, 'open-webui').spec.syncPolicy.syncOptions.push('CreateNamespace=true');
    const problems = checkApplicationPolicy(resources, name);
    expect(problems).toEqual([
      'Application database: project "default": the default project is never used',
      expect.stringMatching(/^Application external-secrets: external-secrets\/customresourcedefinition_clustersecretstores\.external-secrets\.io\.yaml is [0-9]+ KiB, over client-side apply's 256 KiB annotation limit: sync it with ServerSideApply=true$/),
      'Application open-webui: CreateNamespace=true although Namespace open-webui is rendered; drop the option',
      'Application redis: no resources-finalizer.argocd.argoproj.io',
    ]);
  });

  it('ignoreDifferences without naming the owning controller', () => {
    const resources = base();
    delete app(resources, 'external-secrets').metadata.annotations!['dubai-hub.example/ignore-differences'];
    expect(checkApplicationPolicy(resources, name)).toEqual([
      'Application external-secrets: ignoreDifferences without dubai-hub.example/ignore-differences naming the controller that owns each field',
    ]);
  });

  it('a namespace nobody renders or creates', () => {
    const problems = checkNamespaces(without(base(), 'tailscale/namespace_tailscale.yaml'), name, facts(env));
    expect(problems).toContain('tailscale/externalsecret_tailscale_operator-oauth.yaml: namespace tailscale is neither rendered by Application tailscale or an earlier wave, nor created by it (CreateNamespace)');
    // The chart's own objects are in the tree now, and judged like every other.
    expect(problems).toContain('tailscale/deployment_tailscale_operator.yaml: namespace tailscale is neither rendered by Application tailscale or an earlier wave, nor created by it (CreateNamespace)');
  });

  it('a namespace rendered only in a later wave', () => {
    const resources = base();
    app(resources, 'longhorn').metadata.annotations!['argocd.argoproj.io/sync-wave'] = '-25';
    expect(checkNamespaces(resources, name, facts(env))).toContain(
      'longhorn-backups/recurringjob_longhorn-system_backup.yaml: namespace longhorn-system is neither rendered by Application longhorn-backups or an earlier wave, nor created by it (CreateNamespace)',
    );
  });

  it('a custom resource in the same wave as its CRD, or whose CRD is not rendered', () => {
    const resources = base();
    app(resources, 'longhorn-backups').metadata.annotations!['argocd.argoproj.io/sync-wave'] = '-40';
    expect(checkCrdOrder(resources, name, facts(env))).toContain(
      'longhorn-backups/recurringjob_longhorn-system_backup.yaml (RecurringJob longhorn.io): synced by longhorn-backups in wave -40, but its CRD (longhorn/customresourcedefinition_recurringjobs.longhorn.io.yaml) by longhorn in wave -40; the provider must sync in an earlier wave',
    );
    const noCrd = without(base(), 'tailscale/customresourcedefinition_proxyclasses.tailscale.com.yaml');
    expect(checkCrdOrder(noCrd, name, facts(env))).toContain(
      'tailscale-proxies/proxyclass_hardened.yaml (ProxyClass tailscale.com): no rendered CRD defines ProxyClass in tailscale.com; the add-on whose chart provides it must be enabled',
    );
  });

  it('an ExternalSecret that reads another store, and a namespace the store does not admit', () => {
    const other = base();
    find(other, 'redis/externalsecret_redis_redis-auth.yaml').manifest.spec.secretStoreRef.name = 'elsewhere';
    expect(checkSecretStore(other)).toEqual(['redis/externalsecret_redis_redis-auth.yaml: reads ClusterSecretStore/elsewhere, expected ClusterSecretStore/aws-secrets-manager']);

    const resources = base();
    const store = find(resources, 'secret-store/clustersecretstore_aws-secrets-manager.yaml').manifest;
    store.spec.conditions[0].namespaces = store.spec.conditions[0].namespaces.filter((namespace: string) => namespace !== 'litellm');
    expect(checkSecretStore(resources)).toEqual([
      'litellm/externalsecret_litellm_litellm-env.yaml: namespace litellm is not among the namespaces ClusterSecretStore aws-secrets-manager admits (argocd, database, grafana, monitoring, open-webui, redis, tailscale)',
    ]);
  });

  it('a settings ExternalSecret (Fake generator, no store) that also reads another generator or the store', () => {
    const file = 'longhorn-backups/externalsecret_longhorn-system_longhorn-backup-target.yaml';
    const password = base();
    find(password, file).manifest.spec.dataFrom[0].sourceRef.generatorRef.kind = 'Password';
    expect(checkSecretStore(password)).toEqual([`${file}: reads undefined/undefined, expected ClusterSecretStore/aws-secrets-manager`, expect.stringMatching(/namespace longhorn-system is not among the namespaces/)]);
    const store = base();
    find(store, file).manifest.spec.secretStoreRef = { kind: 'ClusterSecretStore', name: 'aws-secrets-manager' };
    expect(checkSecretStore(store)).toEqual([expect.stringMatching(/^longhorn-backups\/externalsecret_longhorn-system_longhorn-backup-target\.yaml: namespace longhorn-system is not among the namespaces/)]);
  });

  it('an AppProject that does not allow a kind, a namespace or a source', () => {
    const resources = base();
    const apps = find(resources, 'apps/appproject_argocd_apps.yaml').manifest;
    apps.spec.namespaceResourceWhitelist = apps.spec.namespaceResourceWhitelist.filter((entry: { kind: string }) => entry.kind !== 'Ingress');
    apps.spec.destinations = apps.spec.destinations.filter((entry: { namespace: string }) => entry.namespace !== 'database');
    const platform = find(resources, 'apps/appproject_argocd_platform.yaml').manifest;
    platform.spec.sourceRepos = ['https://example.invalid/other.git'];
    const problems = checkProjects(resources, name);
    expect(problems).toContain('open-webui/ingress_open-webui_open-webui-tailnet.yaml: project apps does not allow Ingress (networking.k8s.io) in namespaces');
    expect(problems).toContain('Application database: project apps does not allow destination namespace database');
    expect(problems).toContain('database/job_database_db-init-898665b1.yaml: project apps does not allow namespace database');
    expect(problems).toContain('Application longhorn: project platform does not allow source https://github.com/dubai-hub/platform.git');
  });
});
