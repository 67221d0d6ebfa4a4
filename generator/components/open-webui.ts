/**
 * Open WebUI: the user interface. Deployment, Service, ServiceAccount, the
 * Longhorn data volume, non-secret settings in a ConfigMap, secrets from an
 * ExternalSecret, a migration Job per version, and its NetworkPolicies.
 */
import { SERVICE_IDS } from '../k8s/security.js';
import { k8s } from 'cdk8s-plus-28';
import type { Chart } from 'cdk8s';
import { publicIngress, tailnetIngress } from '../addons/ingress.js';
import type { EnvConfig } from '../config/schema.js';
import { ExternalSecret, type RemoteValue } from '../k8s/external-secret.js';
import { networkPolicy, type Flow } from '../k8s/network-policy.js';
import { checksum, deployment, httpProbe, persistentVolumeClaim, type ClaimMount, type WritableDir } from '../k8s/workload.js';
import { ATTACHMENTS_PREFIX, DATABASES, GENERATED_SECRETS, NAMESPACES, openWebUIHost, secretsManagerName, serviceHost, STORAGE_CLASS } from '../platform-names.js';
import { migrationJob } from './migration-job.js';
import { componentNamespace, imageRef, type Component, type RenderContext } from './component.js';
import { auroraCredentials, databaseUrlTemplate, litellmMasterKey, MASTER_KEY_TEMPLATE, redisPassword, redisUrlTemplate } from './secret-values.js';
import { APP_SELECTORS, PORTS, toAurora, toInternetHttps, toLitellm, toRedis } from './shared-flows.js';
import { MONITORING_PORTS, OTLP_METRICS_PATH, toPrometheusOtlp } from '../observability/scrape-targets.js';

const NAME = 'open-webui';
const COMPONENT = 'frontend';
const NAMESPACE = NAMESPACES.openWebUI;
/** The image runs as root by default; these ids run it non-root (fsGroup makes the volumes writable) and outside the node's login users. */
const RUN_AS = { uid: SERVICE_IDS.openWebUI, gid: SERVICE_IDS.openWebUI };
const DATA_DIR = '/app/backend/data';
const STATIC_DIR = '/app/backend/open_webui/static';
/** Where the image's Python finds the open_webui package (its WORKDIR). */
const BACKEND_DIR = '/app/backend';
const LITELLM_URL = `http://${serviceHost('litellm', NAMESPACES.litellm)}:${PORTS.litellm}/v1`;

/** Settings that are not secret. Booleans are strings as Open WebUI reads them. */
/**
 * OpenTelemetry metrics (open_webui/env.py and utils/telemetry/metrics.py of
 * 0.11.0) over OTLP/HTTP to Prometheus's OTLP receiver; traces and logs stay off.
 */
export function openWebUITelemetrySettings(): Record<string, string> {
  return {
    ENABLE_OTEL: 'true',
    ENABLE_OTEL_METRICS: 'true',
    ENABLE_OTEL_TRACES: 'false',
    ENABLE_OTEL_LOGS: 'false',
    OTEL_SERVICE_NAME: 'open-webui',
    OTEL_METRICS_OTLP_SPAN_EXPORTER: 'http',
    OTEL_METRICS_EXPORTER_OTLP_ENDPOINT: `http://${serviceHost('prometheus', NAMESPACES.monitoring)}:${MONITORING_PORTS.prometheus}${OTLP_METRICS_PATH}`,
  };
}

export function openWebUISettings({ config, outputs }: RenderContext): Record<string, string> {
  const webui = config.openWebUI;
  const url = `https://${openWebUIHost(config)}`;
  const origins = [url, ...(config.publicIngress.enabled && config.publicIngress.host ? [`https://${config.publicIngress.host}`] : [])];
  const settings: Record<string, string> = {
    PORT: String(PORTS.openWebUI),
    WEBUI_URL: url,
    CORS_ALLOW_ORIGIN: origins.join(';'),
    DATA_DIR,
    HOME: '/tmp',
    PYTHONDONTWRITEBYTECODE: '1',
    // git is the source of truth: every process starts from these values, never from the database.
    // Admin-panel edits stay in the memory of the one replica that served them, until it restarts.
    ENABLE_PERSISTENT_CONFIG: 'False',
    // Re-applied at every start; the first admin's sign-up closes it in that one process until it restarts.
    ENABLE_SIGNUP: webui.signup.enabled ? 'True' : 'False',
    DEFAULT_USER_ROLE: webui.signup.defaultRole,
    ENABLE_OLLAMA_API: 'False',
    ENABLE_OPENAI_API: 'True',
    OPENAI_API_BASE_URL: LITELLM_URL,
    // Embeddings through LiteLLM: nothing is downloaded into the pod.
    RAG_EMBEDDING_ENGINE: 'openai',
    RAG_EMBEDDING_MODEL: webui.embeddingModel,
    RAG_OPENAI_API_BASE_URL: LITELLM_URL,
    OFFLINE_MODE: 'True',
    HF_HUB_OFFLINE: '1',
    ANONYMIZED_TELEMETRY: 'False',
    DO_NOT_TRACK: 'True',
    SCARF_NO_ANALYTICS: 'True',
    UVICORN_WORKERS: '1',
    // The migration Job migrates once per version; replicas starting together would race (and only log failures).
    ENABLE_DB_MIGRATIONS: 'False',
    DATABASE_POOL_SIZE: String(webui.databasePool.size),
    DATABASE_POOL_MAX_OVERFLOW: String(webui.databasePool.maxOverflow),
    VECTOR_DB: webui.vectorDb,
    ...openWebUITelemetrySettings(),
  };
  if (webui.storage === 's3') {
    Object.assign(settings, {
      STORAGE_PROVIDER: 's3',
      S3_BUCKET_NAME: outputs.buckets.attachments,
      S3_REGION_NAME: config.aws.region,
      S3_KEY_PREFIX: ATTACHMENTS_PREFIX,
    });
  }
  if (config.redis.enabled) {
    Object.assign(settings, { ENABLE_WEBSOCKET_SUPPORT: 'True', WEBSOCKET_MANAGER: 'redis', REDIS_KEY_PREFIX: 'open-webui' });
  }
  if (webui.oidc) {
    Object.assign(settings, {
      ENABLE_OAUTH_SIGNUP: webui.oidc.signup ? 'True' : 'False',
      OAUTH_PROVIDER_NAME: webui.oidc.providerName,
      OPENID_PROVIDER_URL: webui.oidc.providerUrl,
      OAUTH_CLIENT_ID: webui.oidc.clientId,
      OAUTH_SCOPES: 'openid email profile',
      OPENID_REDIRECT_URI: `${url}/oauth/oidc/callback`,
    });
  }
  return settings;
}

/** Secret environment variables, assembled by External Secrets from Secrets Manager. */
export function openWebUISecretEnv({ config, outputs }: RenderContext): { values: RemoteValue[]; template: Record<string, string> } {
  const webui = config.openWebUI;
  const values: RemoteValue[] = [
    { secretKey: 'webuiSecretKey', remoteKey: secretsManagerName(config, GENERATED_SECRETS.openWebUISecretKey) },
    litellmMasterKey(config),
    ...auroraCredentials(outputs),
  ];
  const databaseUrl = databaseUrlTemplate(outputs, DATABASES.openWebUI);
  const template: Record<string, string> = {
    WEBUI_SECRET_KEY: '{{ .webuiSecretKey }}',
    OPENAI_API_KEY: MASTER_KEY_TEMPLATE,
    RAG_OPENAI_API_KEY: MASTER_KEY_TEMPLATE,
    DATABASE_URL: databaseUrl,
  };
  if (webui.vectorDb === 'pgvector') template['PGVECTOR_DB_URL'] = databaseUrl;
  if (config.redis.enabled) {
    values.push(redisPassword(config));
    template['REDIS_URL'] = redisUrlTemplate(0);
    template['WEBSOCKET_REDIS_URL'] = redisUrlTemplate(1);
  }
  if (webui.oidc) {
    values.push({ secretKey: 'oauthClientSecret', remoteKey: secretsManagerName(config, webui.oidc.clientSecret) });
    template['OAUTH_CLIENT_SECRET'] = '{{ .oauthClientSecret }}';
  }
  return { values, template };
}

/** HTTPS on the tailnet (WEBUI_URL), and on the internet where the environment turns the public ingress on. */
export function openWebUIIngresses(chart: Chart, config: EnvConfig, labels: Record<string, string>): void {
  const service = { name: NAME, port: 80 };
  tailnetIngress(chart, { name: `${NAME}-tailnet`, namespace: NAMESPACE, labels, service, machineName: config.hostnames.openWebUI });
  if (config.publicIngress.enabled && config.publicIngress.host) {
    publicIngress(chart, { name: `${NAME}-public`, namespace: NAMESPACE, labels, service, host: config.publicIngress.host });
  }
}

/**
 * What the migration Job runs: alembic to head with the packaged alembic.ini
 * (as open_webui.config.run_migrations does, but a failure exits non-zero
 * instead of being logged), then, with pgvector, the vector client's start-up
 * (extension, tables, indexes), so the serving replicas find them in place.
 */
export function openWebUIMigrationScript(config: EnvConfig): string {
  return [
    'from alembic import command',
    'from alembic.config import Config',
    'from open_webui.env import OPEN_WEBUI_DIR',
    "cfg = Config(str(OPEN_WEBUI_DIR / 'alembic.ini'))",
    "cfg.set_main_option('script_location', str(OPEN_WEBUI_DIR / 'migrations'))",
    "command.upgrade(cfg, 'head')",
    ...(config.openWebUI.vectorDb === 'pgvector' ? ['import open_webui.retrieval.vector.factory'] : []),
  ].join('\n');
}

export const openWebUI: Component = {
  enabled: () => true,
  info: ({ config }) => ({
    folder: 'open-webui',
    description: 'Open WebUI: Deployment, Service, data volume, settings, migration Job, ExternalSecret, NetworkPolicies',
    versions: { 'open-webui image': imageRef(config.openWebUI.image) },
  }),
  build(chart: Chart, context: RenderContext) {
    const { config, outputs } = context;
    const webui = config.openWebUI;
    const version = webui.image.tag;
    const labels = componentNamespace(chart, context, { namespace: NAMESPACE, name: NAME, component: COMPONENT, version, holdsData: true });
    const ingressFrom: Flow = {
      peers: [
        { namespace: NAMESPACES.tailscale },
        ...(config.publicIngress.enabled ? [{ namespace: NAMESPACES.kubeSystem, pods: { 'app.kubernetes.io/name': 'traefik' } }] : []),
      ],
      ports: [{ port: PORTS.openWebUI }],
    };
    const egress: Flow[] = [toLitellm(), toAurora(config), toInternetHttps(), toPrometheusOtlp()];
    if (config.redis.enabled) egress.push(toRedis());
    networkPolicy(chart, { name: NAME, namespace: NAMESPACE, labels, pods: APP_SELECTORS.openWebUI, ingress: [ingressFrom], egress });

    const settings = openWebUISettings(context);
    new k8s.KubeConfigMap(chart, 'settings', {
      metadata: { name: `${NAME}-settings`, namespace: NAMESPACE, labels },
      data: settings,
    });

    const secretEnv = openWebUISecretEnv(context);
    const secret = new ExternalSecret(chart, { name: `${NAME}-env`, namespace: NAMESPACE, labels, ...secretEnv });

    // Several replicas on one node share the volume read-write; Longhorn serves ReadWriteMany over NFS.
    const claimName = `${NAME}-data`;
    persistentVolumeClaim(chart, {
      name: claimName,
      namespace: NAMESPACE,
      labels,
      size: webui.dataVolumeSize,
      storageClass: STORAGE_CLASS,
      accessMode: webui.replicas > 1 ? 'ReadWriteMany' : 'ReadWriteOnce',
    });

    openWebUIIngresses(chart, config, labels);

    const tmp: WritableDir = { name: 'tmp', mountPath: '/tmp', sizeLimit: '2Gi' };
    const staticDir: WritableDir = { name: 'static', mountPath: STATIC_DIR, sizeLimit: '256Mi' };
    const image = imageRef(webui.image);
    const envFrom = [{ configMap: `${NAME}-settings` }, { secret: secret.secretName }];

    // Migrations: once per version, before the serving pods (sync wave), never by them.
    // DATA_DIR is scratch here: the Job writes nothing that the serving pods need.
    migrationJob(chart, config, {
      app: NAME, namespace: NAMESPACE, component: COMPONENT, version, labels, runAs: RUN_AS,
      container: {
        name: 'migrate',
        image,
        command: ['python', '-c', openWebUIMigrationScript(config)],
        workingDir: BACKEND_DIR,
        envFrom,
        resources: webui.resources,
        writableDirs: [tmp, staticDir, { name: 'data', mountPath: DATA_DIR, sizeLimit: '1Gi' }],
      },
    });

    // With S3, every upload is also written under DATA_DIR/uploads and kept there (0.11.0 has no setting
    // to stop it); S3 holds the file, so the local copy lives in an emptyDir instead of the data volume.
    const uploads: WritableDir[] = webui.storage === 's3' ? [{ name: 'uploads', mountPath: `${DATA_DIR}/uploads`, sizeLimit: '4Gi' }] : [];
    const data: ClaimMount = { name: 'data', claimName, mountPath: DATA_DIR };
    deployment(chart, {
      name: NAME,
      namespace: NAMESPACE,
      component: COMPONENT,
      version,
      replicas: webui.replicas,
      whenUnsatisfiable: config.cluster.whenUnsatisfiable,
      runAs: RUN_AS,
      strategy: 'Recreate',
      service: { port: 80, targetPort: 'http' },
      terminationGracePeriodSeconds: 30,
      podAnnotations: { 'checksum/settings': checksum(JSON.stringify(settings)) },
      initContainers: [
        {
          // The static folder is rewritten at start-up; seed a writable copy from the image.
          name: 'seed-static',
          image,
          command: ['sh', '-c', `cp -R ${STATIC_DIR}/. /seed/`],
          resources: { requests: { cpu: '10m', memory: '32Mi' }, limits: { memory: '128Mi' } },
          writableDirs: [{ ...staticDir, mountPath: '/seed' }],
        },
      ],
      containers: [
        {
          name: NAME,
          image,
          ports: [{ name: 'http', port: PORTS.openWebUI }],
          envFrom,
          resources: webui.resources,
          writableDirs: [tmp, staticDir, ...uploads],
          claims: [data],
          // S3 without a key: boto3 assumes the Open WebUI role with the projected token.
          ...(webui.storage === 's3' ? { webIdentity: { roleArn: outputs.roles.openWebUI, region: config.aws.region } } : {}),
          liveness: httpProbe('/health', 'http', { periodSeconds: 20, failureThreshold: 3 }),
          readiness: httpProbe('/ready', 'http', { periodSeconds: 10, failureThreshold: 3 }),
          // The first start builds caches and the vector client: allow up to 10 minutes before liveness applies.
          startup: httpProbe('/ready', 'http', { periodSeconds: 10, failureThreshold: 60 }),
        },
      ],
    });
  },
};
