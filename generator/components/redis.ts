/**
 * Valkey (Redis-compatible) for Open WebUI websockets and LiteLLM's shared
 * rate limits: password from an ExternalSecret, non-root, persistent on
 * Longhorn or explicitly ephemeral.
 */
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
/** The valkey user of the Alpine image. */
const RUN_AS = { uid: 999, gid: 1000 };

/**
 * Writes the config (with the password) to /tmp and starts Valkey on it, so the
 * password never appears in the process list. printf is a shell builtin.
 */
export function redisStartScript(persistent: boolean): string {
  const persistence = persistent ? ['appendonly yes', 'save 3600 1 300 100'] : ['appendonly no', 'save ""'];
  const lines = ['bind 0.0.0.0', `port ${PORTS.redis}`, 'dir /data', 'protected-mode yes', ...persistence];
  const body = lines.map((line) => `'${line.replace(/'/g, `'"'"'`)}'`).join(' ');
  return [
    'set -eu',
    `printf '%s\\n' ${body} > /tmp/valkey.conf`,
    'printf "requirepass %s\\n" "$REDIS_PASSWORD" >> /tmp/valkey.conf',
    'exec valkey-server /tmp/valkey.conf',
  ].join('\n');
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
      template: { REDIS_PASSWORD: '{{ .redisPassword }}', REDISCLI_AUTH: '{{ .redisPassword }}' },
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
          command: ['sh', '-c', redisStartScript(persistent)],
          envFrom: [{ secret: secret.secretName }],
          ports: [{ name: 'redis', port: PORTS.redis }],
          resources: config.redis.resources,
          writableDirs: persistent ? [tmp] : [tmp, ephemeralData],
          claims: persistent ? [{ ...data, claimName: `${NAME}-data` }] : [],
          liveness: { tcpSocket: { port: k8s.IntOrString.fromNumber(PORTS.redis) }, periodSeconds: 10, timeoutSeconds: 3, failureThreshold: 3, initialDelaySeconds: 5 },
          readiness: {
            exec: { command: ['sh', '-c', `valkey-cli -h 127.0.0.1 -p ${PORTS.redis} ping | grep -q PONG`] },
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
          liveness: httpProbe('/health', 'metrics', { initialDelaySeconds: 5 }),
          readiness: httpProbe('/health', 'metrics'),
        },
      ],
    });
  },
};
