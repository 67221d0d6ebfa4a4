/**
 * Valkey (Redis-compatible) for Open WebUI websockets and LiteLLM's shared
 * rate limits: password from an ExternalSecret, non-root, persistent on
 * Longhorn or explicitly ephemeral.
 */
import { SERVICE_IDS } from '../k8s/security.js';
import { k8s } from 'cdk8s-plus-28';
import type { Chart } from 'cdk8s';
import { ExternalSecret } from '../k8s/external-secret.js';
import { networkPolicy } from '../k8s/network-policy.js';
import { deployment, httpProbe, persistentVolumeClaim, type WritableDir } from '../k8s/workload.js';
import { REDIS_EXPORTER_PORT, scrapeIngress } from '../observability/scrape-targets.js';
import { NAMESPACES, STORAGE_CLASS } from '../platform-names.js';
import { componentNamespace, imageRef, type Component, type RenderContext } from './component.js';
import { redisPassword } from './secret-values.js';
import { APP_SELECTORS, PORTS } from './shared-flows.js';

const NAME = 'redis';
const COMPONENT = 'cache';
const NAMESPACE = NAMESPACES.redis;
/** Not the image's valkey user (999, group 1000 = the node's `ubuntu` group): Valkey needs no passwd entry, and fsGroup makes /data writable. */
const RUN_AS = { uid: SERVICE_IDS.valkey, gid: SERVICE_IDS.valkey };

/** Where the rendered config (ConfigMap) and the password file (Secret from an ExternalSecret) are mounted, read-only. */
export const VALKEY_CONFIG_DIR = '/etc/valkey';
export const VALKEY_AUTH_DIR = '/etc/valkey-auth';
export const VALKEY_CONFIG_FILE = 'valkey.conf';
/** Keys of the auth Secret: the `requirepass` line the config includes, and the bare password for the readiness probe's client. */
export const VALKEY_AUTH_KEYS = { requirepass: 'requirepass.conf', password: 'password' } as const;

/**
 * Valkey's configuration: everything but the password, which the server
 * reads from the mounted Secret through `include` (never an environment
 * variable, never the command line).
 */
export function valkeyConfig(persistent: boolean): string {
  const persistence = persistent ? ['appendonly yes', 'save 3600 1 300 100'] : ['appendonly no', 'save ""'];
  const lines = ['bind 0.0.0.0', `port ${PORTS.redis}`, 'dir /data', 'protected-mode yes', ...persistence, `include ${VALKEY_AUTH_DIR}/${VALKEY_AUTH_KEYS.requirepass}`];
  return `${lines.join('\n')}\n`;
}

export const redis: Component = {
  enabled: ({ config }) => config.redis.enabled,
  info: ({ config }) => ({
    folder: 'redis',
    description: `Valkey for websockets and rate limits (${config.redis.persistence.enabled ? 'persistent' : 'ephemeral'}): Deployment, Service, ExternalSecret, NetworkPolicies`,
    versions: { 'valkey image': imageRef(config.redis.image), 'redis_exporter image': imageRef(config.redis.exporterImage) },
  }),
  build(chart: Chart, context: RenderContext) {
    const { config } = context;
    const version = config.redis.image.tag;
    const persistent = config.redis.persistence.enabled;
    const labels = componentNamespace(chart, context, { namespace: NAMESPACE, name: NAME, component: COMPONENT, version, holdsData: persistent });
    networkPolicy(chart, {
      name: NAME,
      namespace: NAMESPACE,
      labels,
      pods: APP_SELECTORS.redis,
      ingress: [
        {
          peers: [
            { namespace: NAMESPACES.openWebUI, pods: APP_SELECTORS.openWebUI },
            { namespace: NAMESPACES.litellm, pods: APP_SELECTORS.litellm },
          ],
          ports: [{ port: PORTS.redis }],
        },
        scrapeIngress(config, 'valkey').flow,
      ],
      egress: [],
    });

    const secret = new ExternalSecret(chart, {
      name: `${NAME}-auth`,
      namespace: NAMESPACE,
      labels,
      values: [redisPassword(config)],
      template: { [VALKEY_AUTH_KEYS.requirepass]: 'requirepass "{{ .redisPassword }}"\n', [VALKEY_AUTH_KEYS.password]: '{{ .redisPassword }}' },
    });
    new k8s.KubeConfigMap(chart, 'config', {
      metadata: { name: `${NAME}-config`, namespace: NAMESPACE, labels },
      data: { [VALKEY_CONFIG_FILE]: valkeyConfig(persistent) },
    });

    const data = { name: 'data', mountPath: '/data' };
    if (persistent) {
      persistentVolumeClaim(chart, { name: `${NAME}-data`, namespace: NAMESPACE, labels, size: config.redis.persistence.size, storageClass: STORAGE_CLASS, accessMode: 'ReadWriteOnce' });
    }
    const ephemeralData: WritableDir = { ...data, sizeLimit: '1Gi' };
    const tmp: WritableDir = { name: 'tmp', mountPath: '/tmp', sizeLimit: '16Mi', memory: true };

    deployment(chart, {
      name: NAME,
      namespace: NAMESPACE,
      component: COMPONENT,
      version,
      replicas: 1,
      runAs: RUN_AS,
      // One instance owning its data: never two at once.
      strategy: 'Recreate',
      service: { port: PORTS.redis, targetPort: 'redis' },
      terminationGracePeriodSeconds: 30,
      containers: [
        {
          name: 'valkey',
          image: imageRef(config.redis.image),
          command: ['valkey-server', `${VALKEY_CONFIG_DIR}/${VALKEY_CONFIG_FILE}`],
          configFiles: [{ name: 'config', configMap: `${NAME}-config`, mountPath: VALKEY_CONFIG_DIR }],
          secretFiles: [{ name: 'auth', secret: secret.secretName, mountPath: VALKEY_AUTH_DIR }],
          ports: [{ name: 'redis', port: PORTS.redis }],
          resources: config.redis.resources,
          writableDirs: persistent ? [tmp] : [tmp, ephemeralData],
          claims: persistent ? [{ ...data, claimName: `${NAME}-data` }] : [],
          liveness: { tcpSocket: { port: k8s.IntOrString.fromNumber(PORTS.redis) }, periodSeconds: 10, timeoutSeconds: 3, failureThreshold: 3, initialDelaySeconds: 5 },
          readiness: {
            // The client reads the password from the mounted file for this one call; the server never sees it in its environment.
            exec: { command: ['sh', '-c', `REDISCLI_AUTH="$(cat ${VALKEY_AUTH_DIR}/${VALKEY_AUTH_KEYS.password})" valkey-cli -h 127.0.0.1 -p ${PORTS.redis} ping | grep -q PONG`] },
            periodSeconds: 5,
            timeoutSeconds: 3,
            failureThreshold: 3,
          },
        },
        {
          // Valkey's metrics for Prometheus; reads REDIS_PASSWORD from the same Secret and talks to Valkey over localhost.
          name: 'redis-exporter',
          image: imageRef(config.redis.exporterImage),
          env: [{ name: 'REDIS_ADDR', value: `redis://127.0.0.1:${PORTS.redis}` }, { name: 'REDIS_EXPORTER_WEB_LISTEN_ADDRESS', value: `:${REDIS_EXPORTER_PORT}` }],
          envFrom: [{ secret: secret.secretName }],
          ports: [{ name: 'metrics', port: REDIS_EXPORTER_PORT }],
          resources: { requests: { cpu: '5m', memory: '16Mi' }, limits: { memory: '64Mi' } },
          // Liveness asks only whether the process answers; readiness whether it serves the metrics page Prometheus scrapes.
          liveness: httpProbe('/health', 'metrics', { initialDelaySeconds: 5 }),
          readiness: httpProbe('/metrics', 'metrics'),
        },
      ],
    });
  },
};
