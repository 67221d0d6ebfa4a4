/**
 * Behaviour of the committed rendered/ tree: what every workload, claim,
 * secret and policy must be, read from the real output.
 */
import { DIGEST_NOT_OBTAINABLE_OFFLINE } from '../generator/images/chart-images.js';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadEnvironment } from '../generator/config/load-environment.js';
import { loadRenderedTree, podSpecOf } from './support/rendered-tree.js';
import { REPO_ROOT } from './support/temp-repo.js';
import { APPS_NAMESPACES } from '../generator/argocd/layer.js';
import { POLICY_EXCEPTION_PREFIX } from '../generator/policy-exceptions.js';
import { readsNoStore } from '../generator/k8s/external-secret.js';

const tree = loadRenderedTree();
/** The generator's own workloads; the charts' pods are judged by Pod Security below and by the policy gate. */
const workloads = tree.filter(({ manifest, chartArchive }) => podSpecOf(manifest) !== undefined && chartArchive === undefined);
const chartWorkloads = tree.filter(({ manifest, chartArchive }) => podSpecOf(manifest) !== undefined && chartArchive !== undefined);
const find = (env: string, kind: string, name: string) => tree.find((item) => item.env === env && item.manifest.kind === kind && item.manifest.metadata.name === name);
const envs = [...new Set(tree.map((item) => item.env))].sort();

describe('the rendered tree', () => {
  it('holds every environment with its workloads', () => {
    expect(envs).toEqual(['dev', 'prod', 'staging']);
    for (const env of envs) {
      for (const name of ['open-webui', 'litellm', 'redis']) expect(find(env, 'Deployment', name), `${env} ${name}`).toBeDefined();
    }
  });

  it('puts nothing in the default namespace', () => {
    for (const { file, manifest } of tree) expect(manifest.metadata.namespace, file).not.toBe('default');
  });
});

describe('every workload', () => {
  it.each(workloads.map((item) => [item.file, item] as const))('%s runs restricted, read-only and bounded', (_file, { manifest }) => {
    const pod = podSpecOf(manifest)!;
    const annotations = (manifest.metadata['annotations'] as Record<string, string> | undefined) ?? {};
    // Only a controller that works through the API gets a token, and its exception says why.
    expect(pod['automountServiceAccountToken']).toBe(annotations['policy.dubai-hub.example/allow-service-account-token-automount'] !== undefined);
    expect(pod['securityContext']).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
    expect(pod['securityContext']['runAsUser']).toBeGreaterThan(0);
    expect(pod['hostNetwork'] ?? false).toBe(false);
    const exceptions = Object.keys((manifest.metadata['annotations'] as Record<string, string> | undefined) ?? {});
    for (const container of [...(pod.initContainers ?? []), ...pod.containers]) {
      expect(container['securityContext']).toMatchObject({ allowPrivilegeEscalation: false, runAsNonRoot: true, capabilities: { drop: ['ALL'] } });
      expect(container['securityContext']['privileged']).toBe(false);
      if (!exceptions.includes('policy.dubai-hub.example/allow-read-only-root-filesystem')) {
        expect(container['securityContext']['readOnlyRootFilesystem'], container['name']).toBe(true);
      }
      expect(container['resources']['requests']['cpu']).toBeDefined();
      expect(container['resources']['requests']['memory']).toBeDefined();
      expect(container['resources']['limits']['memory']).toBeDefined();
      if (!(container['image'] in DIGEST_NOT_OBTAINABLE_OFFLINE)) expect(container['image']).toMatch(/^[^:@]+:(?!latest@)[A-Za-z0-9_.-]+@sha256:[a-f0-9]{64}$/);
      // Secrets reach containers only through Secrets made by ExternalSecrets, never as values.
      // (AWS_WEB_IDENTITY_TOKEN_FILE is the path of the projected token, not a token.)
      for (const variable of container['env'] ?? []) {
        if (variable['name'] === 'AWS_WEB_IDENTITY_TOKEN_FILE') expect(variable['value']).toBe('/var/run/secrets/sts.amazonaws.com/serviceaccount/token');
        else expect(variable['name']).not.toMatch(/KEY|PASSWORD|SECRET|TOKEN/);
      }
    }
    // Every mounted volume is an emptyDir with a size limit, a claim, the projected web-identity token, or a ConfigMap or Secret (from an ExternalSecret) mounted read-only.
    for (const volume of pod['volumes'] ?? []) {
      expect(volume['emptyDir']?.['sizeLimit'] ?? volume['persistentVolumeClaim'] ?? volume['configMap'] ?? volume['secret'] ?? volume['projected']?.['sources']?.[0]?.['serviceAccountToken'], volume['name']).toBeDefined();
      if (volume['configMap'] || volume['secret']) {
        for (const container of [...pod.containers, ...(pod.initContainers ?? [])]) {
          for (const mount of (container['volumeMounts'] ?? []).filter((m: { name: string }) => m.name === volume['name'])) expect(mount.readOnly, `${volume['name']} in ${container['name']}`).toBe(true);
        }
      }
    }
  });

  it('of the charts passes the restricted Pod Security Standard, Longhorn and node-exporter (the documented privileged namespaces) and the log collector (baseline) aside', () => {
    const restricted = chartWorkloads.filter(({ manifest }) => !['longhorn-system', 'monitoring-node'].includes(manifest.metadata.namespace!) && !(manifest.kind === 'DaemonSet' && manifest.metadata.name === 'victoria-logs-vector'));
    expect(new Set(restricted.map(({ manifest }) => manifest.metadata.namespace))).toEqual(new Set(['argocd', 'external-secrets', 'tailscale', 'monitoring', 'grafana', 'logging']));
    for (const { file, manifest } of restricted) {
      const pod = podSpecOf(manifest)!;
      for (const hostField of ['hostNetwork', 'hostPID', 'hostIPC']) expect(pod[hostField] ?? false, `${file} ${hostField}`).toBe(false);
      for (const volume of pod['volumes'] ?? []) {
        const types = Object.keys(volume).filter((key) => key !== 'name');
        expect(types.every((type) => ['configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral', 'persistentVolumeClaim', 'projected', 'secret'].includes(type)), `${file} volume ${volume['name']}`).toBe(true);
      }
      for (const container of [...(pod.initContainers ?? []), ...pod.containers]) {
        const where = `${file} ${container['name']}`;
        const context = { ...(pod['securityContext'] ?? {}), ...(container['securityContext'] ?? {}) };
        expect(context['privileged'] ?? false, where).toBe(false);
        expect(container['securityContext']?.['allowPrivilegeEscalation'], where).toBe(false);
        expect(container['securityContext']?.['capabilities']?.['drop'], where).toContain('ALL');
        expect((container['securityContext']?.['capabilities']?.['add'] ?? []).every((capability: string) => capability === 'NET_BIND_SERVICE'), where).toBe(true);
        expect(context['runAsNonRoot'], where).toBe(true);
        expect(context['runAsUser'] ?? 1, where).not.toBe(0);
        expect(['RuntimeDefault', 'Localhost'], where).toContain(context['seccompProfile']?.['type']);
      }
    }
  });

  it('of the charts asks for an exception, with its reason, wherever it breaks a project rule', () => {
    expect(chartWorkloads.length).toBeGreaterThan(0);
    for (const { file, manifest } of chartWorkloads) {
      const pod = podSpecOf(manifest)!;
      const annotations = (manifest.metadata['annotations'] ?? {}) as Record<string, string>;
      if (pod['automountServiceAccountToken'] !== false) expect(annotations[`${POLICY_EXCEPTION_PREFIX}service-account-token-automount`], file).toMatch(/.{20,}/);
    }
  });

  it('with more than one replica has a PodDisruptionBudget allowing one disruption and a topology spread', () => {
    const multi = tree.filter(({ manifest }) => manifest.kind === 'Deployment' && (manifest['spec'] as any).replicas > 1);
    expect(multi.length).toBeGreaterThan(0);
    expect(multi.some(({ chartArchive }) => chartArchive !== undefined)).toBe(true);
    for (const { env, manifest } of multi) {
      const podLabels = ((manifest['spec'] as any).template.metadata.labels ?? {}) as Record<string, string>;
      const selects = (selector: { matchLabels?: Record<string, string> }) => Object.entries(selector.matchLabels ?? {}).every(([key, value]) => podLabels[key] === value);
      const budgets = tree.filter((item) => item.env === env && item.manifest.kind === 'PodDisruptionBudget' && item.manifest.metadata.namespace === manifest.metadata.namespace && selects((item.manifest['spec'] as any).selector));
      expect(budgets.map((item) => item.file), `${env} ${manifest.metadata.name}`).toHaveLength(1);
      expect((budgets[0]!.manifest['spec'] as any).maxUnavailable).toBe(1);
      const spread = podSpecOf(manifest)!['topologySpreadConstraints'] as { topologyKey: string; labelSelector: { matchLabels: Record<string, string> } }[];
      expect(spread.map((constraint) => constraint.topologyKey).sort(), `${env} ${manifest.metadata.name}`).toEqual(['kubernetes.io/hostname', 'topology.kubernetes.io/zone']);
      for (const constraint of spread) expect(selects(constraint.labelSelector), `${env} ${manifest.metadata.name}`).toBe(true);
    }
  });

  it('with one replica has no PodDisruptionBudget (it would block node drains)', () => {
    for (const { env, manifest } of tree.filter(({ manifest }) => manifest.kind === 'Deployment' && (manifest['spec'] as any).replicas === 1)) {
      expect(find(env, 'PodDisruptionBudget', manifest.metadata.name)).toBeUndefined();
      expect(find(env, 'PodDisruptionBudget', `${manifest.metadata.name}-pdb`)).toBeUndefined();
    }
  });
});

describe('every PersistentVolumeClaim', () => {
  const claims = tree.filter(({ manifest }) => manifest.kind === 'PersistentVolumeClaim');
  it('is never pruned nor deleted by Argo CD, nor is its namespace', () => {
    expect(claims.length).toBeGreaterThanOrEqual(3);
    for (const { env, file, manifest } of claims) {
      expect((manifest.metadata['annotations'] as any)['argocd.argoproj.io/sync-options'], file).toBe('Prune=false,Delete=false');
      const namespace = find(env, 'Namespace', manifest.metadata.namespace!);
      expect((namespace!.manifest.metadata['annotations'] as any)['argocd.argoproj.io/sync-options']).toBe('Prune=false,Delete=false');
    }
  });
  it('uses the Longhorn Retain storage class', () => {
    for (const { manifest } of claims) expect((manifest['spec'] as any).storageClassName).toBe('longhorn-retain');
  });
});

describe('namespaces', () => {
  it('enforce the restricted Pod Security Standard at the cluster version, unless a policy exception says why', () => {
    const exception = `${POLICY_EXCEPTION_PREFIX}pod-security-restricted`;
    for (const { manifest } of tree.filter(({ manifest }) => manifest.kind === 'Namespace')) {
      if ((manifest.metadata['annotations'] as Record<string, string> | undefined)?.[exception]) continue;
      expect(manifest.metadata['labels']).toMatchObject({ 'pod-security.kubernetes.io/enforce': 'restricted', 'pod-security.kubernetes.io/enforce-version': 'v1.36' });
    }
  });
  it('of the workloads each start from default deny and allow DNS', () => {
    for (const { env, manifest } of tree.filter(({ manifest }) => manifest.kind === 'Namespace' && APPS_NAMESPACES.includes(manifest.metadata.name))) {
      const inNamespace = (name: string) =>
        tree.find((item) => item.env === env && item.manifest.kind === 'NetworkPolicy' && item.manifest.metadata.name === name && item.manifest.metadata.namespace === manifest.metadata.name);
      const deny = inNamespace('default-deny-all');
      expect(deny, `${env} ${manifest.metadata.name}`).toBeDefined();
      expect(deny!.manifest['spec']).toEqual({ podSelector: {}, policyTypes: ['Ingress', 'Egress'], ingress: [], egress: [] });
      expect(inNamespace('allow-dns'), `${env} ${manifest.metadata.name}`).toBeDefined();
    }
  });
});

describe('network policies', () => {
  const policies = tree.filter(({ manifest }) => manifest.kind === 'NetworkPolicy');
  it('never let a pod reach the instance metadata address, but in the namespaces whose controllers act as the node', () => {
    // External Secrets reads Secrets Manager and Longhorn writes its backups with the node's instance profile.
    const actAsNode = new Set(['external-secrets', 'longhorn-system', 'cert-manager']);
    const toNumber = (ip: string) => ip.split('.').reduce((acc, part) => acc * 256 + Number(part), 0);
    const contains = (cidr: string, ip: string) => {
      const [base, bits] = cidr.split('/');
      const size = 2 ** (32 - Number(bits));
      return Math.floor(toNumber(ip) / size) === Math.floor(toNumber(base!) / size);
    };
    let blocksCoveringMetadata = 0;
    for (const { file, manifest } of policies) {
      if (actAsNode.has(manifest.metadata.namespace ?? '')) continue;
      for (const rule of (manifest['spec'] as any).egress ?? []) {
        for (const peer of rule.to ?? []) {
          if (!peer.ipBlock || !contains(peer.ipBlock.cidr, '169.254.169.254')) continue;
          blocksCoveringMetadata++;
          expect((peer.ipBlock.except ?? []).some((except: string) => contains(except, '169.254.169.254')), file).toBe(true);
        }
      }
    }
    // The internet egress rules (0.0.0.0/0) cover the address: the check above is not vacuous.
    expect(blocksCoveringMetadata).toBeGreaterThan(0);
  });
  it('let Open WebUI reach LiteLLM on 4000 and only Open WebUI (and Prometheus, to scrape it) in', () => {
    const litellm = find('prod', 'NetworkPolicy', 'litellm')!.manifest['spec'] as any;
    expect(litellm.ingress).toEqual([
      {
        from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'open-webui' } }, podSelector: { matchLabels: { 'app.kubernetes.io/component': 'frontend', 'app.kubernetes.io/name': 'open-webui' } } }],
        ports: [{ port: 4000, protocol: 'TCP' }],
      },
      {
        from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } }, podSelector: { matchLabels: { 'app.kubernetes.io/component': 'server', 'app.kubernetes.io/name': 'prometheus' } } }],
        ports: [{ port: 4000, protocol: 'TCP' }],
      },
    ]);
    const webui = find('prod', 'NetworkPolicy', 'open-webui')!.manifest['spec'] as any;
    const egressPorts = webui.egress.flatMap((rule: any) => rule.ports.map((port: any) => port.port)).sort((a: number, b: number) => a - b);
    // 9090: OpenTelemetry metrics to Prometheus's OTLP receiver.
    expect(egressPorts).toEqual([443, 4000, 5432, 6379, 9090]);
  });
  it('open Aurora only towards the private subnets', () => {
    let rules = 0;
    for (const { env, manifest } of policies) {
      const subnets = loadEnvironment(REPO_ROOT, env).config.network.privateSubnetCidrs;
      for (const rule of (manifest['spec'] as any).egress ?? []) {
        if (!rule.ports.some((port: any) => port.port === 5432)) continue;
        rules++;
        expect(rule.to).toEqual(subnets.map((cidr) => ({ ipBlock: { cidr } })));
        expect(rule.ports).toEqual([{ port: 5432, protocol: 'TCP' }]);
      }
    }
    expect(rules).toBeGreaterThanOrEqual(3 * 4); // Open WebUI, LiteLLM, its migrations and db-init, per environment
  });
});

describe('Open WebUI', () => {
  it.each(envs)('%s: probes /health and /ready, Recreate rollouts, secret key from an ExternalSecret', (env) => {
    const deployment = find(env, 'Deployment', 'open-webui')!.manifest;
    const container = podSpecOf(deployment)!.containers[0]!;
    expect(container['livenessProbe'].httpGet.path).toBe('/health');
    expect(container['readinessProbe'].httpGet.path).toBe('/ready');
    expect((deployment['spec'] as any).strategy.type).toBe('Recreate');
    const secret = find(env, 'ExternalSecret', 'open-webui-env')!.manifest['spec'] as any;
    expect(secret.target.template.data.WEBUI_SECRET_KEY).toBe('{{ .webuiSecretKey }}');
    expect(container['envFrom']).toContainEqual({ secretRef: { name: 'open-webui-env' } });
  });

  it('never gets empty settings or S3 keys and uses shared state when it has several replicas', () => {
    const settings = find('prod', 'ConfigMap', 'open-webui-settings')!.manifest['data'] as Record<string, string>;
    for (const [name, value] of Object.entries(settings)) expect(value, name).not.toBe('');
    expect(settings).toMatchObject({ STORAGE_PROVIDER: 's3', VECTOR_DB: 'pgvector', WEBSOCKET_MANAGER: 'redis', UVICORN_WORKERS: '1', ENABLE_OLLAMA_API: 'False' });
    expect(settings['OPENAI_API_BASE_URL']).toBe('http://litellm.litellm.svc.cluster.local:4000/v1');
    const template = (find('prod', 'ExternalSecret', 'open-webui-env')!.manifest['spec'] as any).target.template.data;
    expect(Object.keys(template)).toEqual(expect.arrayContaining(['DATABASE_URL', 'PGVECTOR_DB_URL', 'REDIS_URL', 'WEBSOCKET_REDIS_URL']));
    // S3 through workload identity: no key in the Secret (test/workload-identity.test.ts checks the token).
    expect(Object.keys(template).filter((key) => key.startsWith('S3_'))).toEqual([]);
    expect(template.DATABASE_URL).toMatch(/^postgresql:\/\/\{\{ \.dbUsername \| urlquery \}\}:\{\{ \.dbPassword \| urlquery \}\}@.+:5432\/openwebui\?sslmode=require$/);
  });
});

describe('LiteLLM', () => {
  it.each(envs)('%s: config.yaml references keys only through os.environ/', (env) => {
    const configMap = find(env, 'ConfigMap', 'litellm-config')!.manifest['data'] as Record<string, string>;
    const config = parse(configMap['config.yaml']!);
    expect(config.general_settings.master_key).toBe('os.environ/LITELLM_MASTER_KEY');
    for (const model of config.model_list) expect(model.litellm_params.api_key).toMatch(/^os\.environ\/[A-Z0-9_]+$/);
    // Every referenced variable is provided by the ExternalSecret.
    const template = (find(env, 'ExternalSecret', 'litellm-env')!.manifest['spec'] as any).target.template.data;
    for (const model of config.model_list) expect(Object.keys(template)).toContain(model.litellm_params.api_key.replace('os.environ/', ''));
  });

  it.each(envs)('%s: pods roll when config.yaml changes', async (env) => {
    const { createHash } = await import('node:crypto');
    const configMap = find(env, 'ConfigMap', 'litellm-config')!.manifest['data'] as Record<string, string>;
    const deployment = find(env, 'Deployment', 'litellm')!.manifest['spec'] as any;
    expect(deployment.template.metadata.annotations['checksum/config']).toBe(createHash('sha256').update(configMap['config.yaml']!).digest('hex'));
  });

  it.each(envs)('%s: serving pods never migrate; one Job per version does, before them', (env) => {
    const deployment = find(env, 'Deployment', 'litellm')!.manifest;
    const container = podSpecOf(deployment)!.containers[0]!;
    expect(container['env']).toContainEqual({ name: 'DISABLE_SCHEMA_UPDATE', value: 'true' });
    expect(container['livenessProbe'].httpGet.path).toBe('/health/liveliness');
    expect(container['readinessProbe'].httpGet.path).toBe('/health/readiness');
    const jobs = tree.filter((item) => item.env === env && item.manifest.kind === 'Job' && item.manifest.metadata.namespace === 'litellm');
    expect(jobs).toHaveLength(1);
    const job = jobs[0]!.manifest;
    expect(job.metadata.name).toBe('litellm-migrate-v1-85-1');
    expect(podSpecOf(job)!.containers[0]!['env']).toContainEqual({ name: 'DISABLE_SCHEMA_UPDATE', value: 'false' });
    const wave = (manifest: typeof job) => Number((manifest.metadata['annotations'] as any)['argocd.argoproj.io/sync-wave']);
    expect(wave(job)).toBeLessThan(wave(deployment));
    expect(wave(find(env, 'ExternalSecret', 'litellm-env')!.manifest)).toBeLessThan(wave(job));
  });
});

describe('Redis', () => {
  it('reads its password from a mounted file: not the environment, not the command line, not a shell wrapper', () => {
    for (const env of envs) {
      const pod = podSpecOf(find(env, 'Deployment', 'redis')!.manifest)!;
      const container = pod.containers[0]!;
      expect(container['command']).toEqual(['valkey-server', '/etc/valkey/valkey.conf']);
      expect(container['env']).toBeUndefined();
      expect(container['envFrom']).toBeUndefined();
      expect(container['volumeMounts']).toContainEqual({ name: 'auth', mountPath: '/etc/valkey-auth', readOnly: true });
      expect(container['volumeMounts']).toContainEqual({ name: 'config', mountPath: '/etc/valkey', readOnly: true });
      expect(pod['volumes']).toContainEqual({ name: 'auth', secret: { secretName: 'redis-auth', defaultMode: 0o440 } });
      const config = find(env, 'ConfigMap', 'redis-config')!.manifest['data'] as Record<string, string>;
      expect(config['valkey.conf']).toContain('include /etc/valkey-auth/requirepass.conf');
      expect(config['valkey.conf']).not.toMatch(/requirepass\s/);
      const template = (find(env, 'ExternalSecret', 'redis-auth')!.manifest['spec'] as any).target.template.data;
      expect(template).toEqual({ 'requirepass.conf': 'requirepass "{{ .redisPassword }}"\n', password: '{{ .redisPassword }}' });
    }
  });
  it('is persistent in prod and explicitly ephemeral in dev', () => {
    expect(find('prod', 'PersistentVolumeClaim', 'redis-data')).toBeDefined();
    expect(find('dev', 'PersistentVolumeClaim', 'redis-data')).toBeUndefined();
    const devVolumes = podSpecOf(find('dev', 'Deployment', 'redis')!.manifest)!['volumes'];
    expect(devVolumes).toContainEqual({ name: 'data', emptyDir: { sizeLimit: '1Gi' } });
  });
});

describe('secrets', () => {
  it('no Secret with a value is ever rendered (the charts\' empty ones are filled in the cluster); ExternalSecrets read from the ClusterSecretStore', () => {
    const secrets = tree.filter(({ manifest }) => manifest.kind === 'Secret');
    expect(secrets.every(({ chartArchive }) => chartArchive !== undefined)).toBe(true);
    for (const { file, manifest } of secrets) expect([manifest['data'], manifest['stringData']], file).toEqual([undefined, undefined]);
    for (const { manifest } of tree.filter(({ manifest }) => manifest.kind === 'ExternalSecret')) {
      expect(manifest.apiVersion).toBe('external-secrets.io/v1');
      // The one settings Secret (Longhorn's backup target: the role ARN only) comes from a Fake generator and reads no store.
      if (manifest.metadata.name === 'longhorn-backup-target') {
        expect(readsNoStore(manifest['spec'] as any)).toBe(true);
        continue;
      }
      expect((manifest['spec'] as any).secretStoreRef).toEqual({ kind: 'ClusterSecretStore', name: 'aws-secrets-manager' });
    }
  });
  it('each environment reads only its own Secrets Manager prefix', () => {
    for (const { env, manifest } of tree.filter(({ manifest }) => manifest.kind === 'ExternalSecret')) {
      for (const item of (manifest['spec'] as any).data ?? []) {
        const key: string = item.remoteRef.key;
        if (key.startsWith('arn:')) continue; // the RDS-managed master secret, by ARN
        expect(key.startsWith(`dubai/${env}/`), key).toBe(true);
      }
    }
  });
});
