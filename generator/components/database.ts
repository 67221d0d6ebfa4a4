/**
 * Database set-up on Aurora: a Job that creates the Open WebUI and LiteLLM
 * databases and the pgvector extension if they are missing. Idempotent; its
 * name carries a hash of the script so it runs again only when the script
 * changes.
 */
import type { Chart } from 'cdk8s';
import { ExternalSecret } from '../k8s/external-secret.js';
import { networkPolicy } from '../k8s/network-policy.js';
import { SYNC_WAVE, syncWave } from '../k8s/sync-waves.js';
import { job, shortHash } from '../k8s/workload.js';
import { k8s } from 'cdk8s-plus-28';
import { DATABASES, NAMESPACES } from '../platform-names.js';
import { componentNamespace, imageRef, type Component, type RenderContext } from './component.js';
import { auroraCredentials } from './secret-values.js';
import { toAurora } from './shared-flows.js';

const NAME = 'db-init';
const COMPONENT = 'database';
const NAMESPACE = NAMESPACES.database;
/** The postgres user of the Alpine image. */
const RUN_AS = { uid: 70, gid: 70 };

export function databaseSetupScript(): string {
  const databases = Object.values(DATABASES).sort();
  return [
    'set -eu',
    `for db in ${databases.join(' ')}; do`,
    '  if psql -v ON_ERROR_STOP=1 -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = \'$db\'" | grep -q 1; then',
    '    echo "database $db exists"',
    '  else',
    '    psql -v ON_ERROR_STOP=1 -d postgres -c "CREATE DATABASE \\"$db\\""',
    '  fi',
    'done',
    `psql -v ON_ERROR_STOP=1 -d ${DATABASES.openWebUI} -c 'CREATE EXTENSION IF NOT EXISTS vector'`,
  ].join('\n');
}

export const database: Component = {
  enabled: () => true,
  info: ({ config }) => ({
    folder: 'database',
    description: 'Aurora set-up Job: creates the application databases and the pgvector extension',
    versions: { 'postgres client image': imageRef(config.aurora.clientImage) },
  }),
  build(chart: Chart, context: RenderContext) {
    const { config, outputs } = context;
    const version = config.aurora.clientImage.tag;
    const pods = { 'app.kubernetes.io/name': NAME, 'app.kubernetes.io/component': COMPONENT };
    const labels = componentNamespace(chart, context, { namespace: NAMESPACE, name: NAME, component: COMPONENT, version, holdsData: false });
    networkPolicy(chart, { name: NAME, namespace: NAMESPACE, labels, pods, egress: [toAurora(config)] });

    new k8s.KubeServiceAccount(chart, 'service-account', {
      metadata: { name: NAME, namespace: NAMESPACE, labels, annotations: syncWave(SYNC_WAVE.secrets) },
      automountServiceAccountToken: false,
    });

    const secret = new ExternalSecret(chart, {
      name: 'aurora-master',
      namespace: NAMESPACE,
      labels,
      values: auroraCredentials(outputs),
      template: { PGUSER: '{{ .dbUsername }}', PGPASSWORD: '{{ .dbPassword }}' },
    });

    const script = databaseSetupScript();
    job(chart, {
      name: `${NAME}-${shortHash(script, outputs.aurora.endpoint)}`,
      appName: NAME,
      namespace: NAMESPACE,
      component: COMPONENT,
      version,
      wave: SYNC_WAVE.databaseSetup,
      runAs: RUN_AS,
      serviceAccountName: NAME,
      podLabels: pods,
      containers: [
        {
          name: 'psql',
          image: imageRef(config.aurora.clientImage),
          command: ['sh', '-c', script],
          env: [
            { name: 'PGHOST', value: outputs.aurora.endpoint },
            { name: 'PGPORT', value: String(outputs.aurora.port) },
            { name: 'PGSSLMODE', value: 'require' },
            { name: 'PGCONNECT_TIMEOUT', value: '10' },
            { name: 'HOME', value: '/tmp' },
          ],
          envFrom: [{ secret: secret.secretName }],
          resources: { requests: { cpu: '10m', memory: '32Mi' }, limits: { memory: '128Mi' } },
          writableDirs: [{ name: 'tmp', mountPath: '/tmp', sizeLimit: '16Mi', memory: true }],
        },
      ],
    });
  },
};
