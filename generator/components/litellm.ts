/**
 * LiteLLM proxy: config.yaml generated from the model list (keys only as
 * os.environ/NAME), secrets from an ExternalSecret, schema migrations in a Job
 * named after the version so they run once per version.
 */
import { k8s } from 'cdk8s-plus-28';
import type { Chart } from 'cdk8s';
import { stringify } from 'yaml';
import type { EnvConfig } from '../config/schema.js';
import { ExternalSecret, type RemoteValue } from '../k8s/external-secret.js';
import { networkPolicy, type Flow } from '../k8s/network-policy.js';
import { checksum, deployment, httpProbe, type ContainerProps, type WritableDir } from '../k8s/workload.js';
import { DATABASES, GENERATED_SECRETS, NAMESPACES, providerKeyEnvName, secretsManagerName } from '../platform-names.js';
import { policyException } from '../policy-exceptions.js';
import { scrapeIngress } from '../observability/scrape-targets.js';
import { migrationJob } from './migration-job.js';
import { componentNamespace, imageRef, type Component, type RenderContext } from './component.js';
import { auroraCredentials, databaseUrlTemplate, litellmMasterKey, MASTER_KEY_TEMPLATE, REDIS_HOST, redisPassword } from './secret-values.js';
import { APP_SELECTORS, PORTS, toAurora, toInternetHttps, toRedis } from './shared-flows.js';

const NAME = 'litellm';
const COMPONENT = 'llm-proxy';
const NAMESPACE = NAMESPACES.litellm;
/** The litellm-non_root image runs as nobody. */
const RUN_AS = { uid: 65534, gid: 65534 };
const CONFIG_PATH = '/etc/litellm';
/** Where the non-root image copies its admin UI at start (LITELLM_NON_ROOT=true); must be writable. */
const UI_PATH = '/var/lib/litellm/ui';

/** LiteLLM's config.yaml. API keys appear only as os.environ/NAME references. */
export function litellmConfig(config: EnvConfig): Record<string, unknown> {
  return {
    model_list: config.litellm.models.map((model) => ({
      model_name: model.name,
      litellm_params: {
        model: model.model,
        api_key: `os.environ/${providerKeyEnvName(model.apiKeySecret)}`,
        ...(model.apiBase ? { api_base: model.apiBase } : {}),
      },
    })),
    general_settings: {
      master_key: 'os.environ/LITELLM_MASTER_KEY',
      database_url: 'os.environ/DATABASE_URL',
      // Models come from git only; the admin UI cannot add models that outlive a sync.
      store_model_in_db: false,
    },
    litellm_settings: {
      drop_params: config.litellm.dropParams,
      request_timeout: config.litellm.requestTimeoutSeconds,
      // /metrics for Prometheus (integrations/prometheus.py, no enterprise check in 1.85.1); scraping it needs a key.
      callbacks: ['prometheus'],
    },
    ...(config.redis.enabled
      ? {
          router_settings: {
            redis_host: REDIS_HOST,
            redis_port: PORTS.redis,
            redis_password: 'os.environ/REDIS_PASSWORD',
          },
        }
      : {}),
  };
}

export function litellmConfigYaml(config: EnvConfig): string {
  return stringify(litellmConfig(config), { sortMapEntries: true, lineWidth: 0 });
}

/** Secret environment variables: master and salt keys, database URL, Redis password, provider keys. */
export function litellmSecretEnv({ config, outputs }: RenderContext): { values: RemoteValue[]; template: Record<string, string> } {
  const values: RemoteValue[] = [
    litellmMasterKey(config),
    { secretKey: 'litellmSaltKey', remoteKey: secretsManagerName(config, GENERATED_SECRETS.litellmSaltKey) },
    ...auroraCredentials(outputs),
  ];
  const template: Record<string, string> = {
    LITELLM_MASTER_KEY: MASTER_KEY_TEMPLATE,
    // The salt key encrypts stored credentials and can never change once set.
    LITELLM_SALT_KEY: '{{ .litellmSaltKey }}',
    DATABASE_URL: databaseUrlTemplate(outputs, DATABASES.litellm),
  };
  if (config.redis.enabled) {
    values.push(redisPassword(config));
    template['REDIS_PASSWORD'] = '{{ .redisPassword }}';
  }
  const providerRefs = [...new Set(config.litellm.models.map((model) => model.apiKeySecret))].sort();
  for (const ref of providerRefs) {
    const env = providerKeyEnvName(ref);
    values.push({ secretKey: env, remoteKey: secretsManagerName(config, ref) });
    template[env] = `{{ .${env} }}`;
  }
  return { values, template };
}

/** Ports of provider API bases that are not 443, so the egress policy allows them. */
function providerPorts(config: EnvConfig): number[] {
  return config.litellm.models
    .filter((model) => model.apiBase)
    .map((model) => new URL(model.apiBase!).port)
    .filter((port) => port !== '')
    .map(Number);
}

export const litellm: Component = {
  enabled: () => true,
  info: ({ config }) => ({
    folder: 'litellm',
    description: 'LiteLLM proxy: Deployment, Service, generated config.yaml, migration Job, ExternalSecret, NetworkPolicies',
    versions: { 'litellm image': imageRef(config.litellm.image) },
  }),
  build(chart: Chart, context: RenderContext) {
    const { config } = context;
    const version = config.litellm.image.tag;
    const image = imageRef(config.litellm.image);
    const labels = componentNamespace(chart, context, { namespace: NAMESPACE, name: NAME, component: COMPONENT, version, holdsData: false });
    const egress: Flow[] = [toAurora(config), toInternetHttps(providerPorts(config))];
    if (config.redis.enabled) egress.push(toRedis());
    networkPolicy(chart, {
      name: NAME,
      namespace: NAMESPACE,
      labels,
      pods: APP_SELECTORS.litellm,
      ingress: [{ peers: [{ namespace: NAMESPACES.openWebUI, pods: APP_SELECTORS.openWebUI }], ports: [{ port: PORTS.litellm }] }, scrapeIngress(config, 'litellm').flow],
      egress,
    });

    const configYaml = litellmConfigYaml(config);
    new k8s.KubeConfigMap(chart, 'config', {
      metadata: { name: `${NAME}-config`, namespace: NAMESPACE, labels },
      data: { 'config.yaml': configYaml },
    });

    const secret = new ExternalSecret(chart, { name: `${NAME}-env`, namespace: NAMESPACE, labels, ...litellmSecretEnv(context) });

    // Writable paths the upstream chart gives a read-only root filesystem.
    const writableDirs: WritableDir[] = [
      { name: 'tmp', mountPath: '/tmp', sizeLimit: '512Mi' },
      { name: 'cache', mountPath: '/.cache', sizeLimit: '512Mi' },
      { name: 'npm', mountPath: '/.npm', sizeLimit: '256Mi' },
      // The packaged UI (about 25 MB) is copied here at start; read-only, LiteLLM falls back to the packaged copy with a warning.
      { name: 'ui', mountPath: UI_PATH, sizeLimit: '128Mi' },
    ];
    const commonEnv: k8s.EnvVar[] = [
      { name: 'LITELLM_UI_PATH', value: UI_PATH },
      // The cost map shipped in the image, instead of a download from GitHub at every start.
      { name: 'LITELLM_LOCAL_MODEL_COST_MAP', value: 'True' },
    ];
    const common: Omit<ContainerProps, 'name'> = {
      image,
      envFrom: [{ secret: secret.secretName }],
      resources: config.litellm.resources,
      writableDirs,
    };

    // Migrations: once per version, before the serving pods (sync wave), never by them.
    migrationJob(chart, config, {
      app: NAME, namespace: NAMESPACE, component: COMPONENT, version, labels, runAs: RUN_AS,
      annotations: policyException('read-only-root-filesystem', 'prisma migrate writes its schema under site-packages; only this Job, never the serving pods'),
      container: {
        ...common,
        name: 'migrate',
        command: ['python', 'litellm/proxy/prisma_migration.py'],
        workingDir: '/app',
        env: [
          { name: 'DISABLE_SCHEMA_UPDATE', value: 'false' },
          // Without it a failed `prisma migrate deploy` only logs and the Job succeeds (proxy_cli.py, 1.85.1).
          { name: 'ENFORCE_PRISMA_MIGRATION_CHECK', value: 'true' },
          ...commonEnv,
        ],
        writableRootFilesystem: true,
      },
    });

    deployment(chart, {
      name: NAME,
      namespace: NAMESPACE,
      component: COMPONENT,
      version,
      replicas: config.litellm.replicas,
      whenUnsatisfiable: config.cluster.whenUnsatisfiable,
      ...(config.litellm.autoscaling ? { autoscaling: config.litellm.autoscaling } : {}),
      runAs: RUN_AS,
      strategy: 'RollingUpdate',
      service: { port: PORTS.litellm, targetPort: 'http' },
      podAnnotations: { 'checksum/config': checksum(configYaml) },
      terminationGracePeriodSeconds: 60,
      containers: [
        {
          ...common,
          name: NAME,
          args: ['--config', `${CONFIG_PATH}/config.yaml`, '--port', String(PORTS.litellm)],
          env: [
            { name: 'DISABLE_SCHEMA_UPDATE', value: 'true' },
            { name: 'LITELLM_MODE', value: 'PRODUCTION' },
            { name: 'LITELLM_LOG', value: 'INFO' },
            ...commonEnv,
          ],
          ports: [{ name: 'http', port: PORTS.litellm }],
          configFiles: [{ name: 'config', configMap: `${NAME}-config`, mountPath: CONFIG_PATH }],
          liveness: httpProbe('/health/liveliness', 'http', { periodSeconds: 15, failureThreshold: 4 }),
          readiness: httpProbe('/health/readiness', 'http', { periodSeconds: 10, failureThreshold: 3 }),
          startup: httpProbe('/health/liveliness', 'http', { periodSeconds: 5, failureThreshold: 60 }),
        },
      ],
    });
  },
};
