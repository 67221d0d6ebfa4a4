/**
 * The ClusterSecretStore every ExternalSecret reads from: AWS Secrets Manager
 * in the environment's region, through JWT auth: the controller requests a
 * token of its own service account and assumes the External Secrets role
 * (docs/workload-identity.md). No static keys, no instance profile.
 */
import { ApiObject, type Chart } from 'cdk8s';
import { APPLICATION_WAVE, ARGOCD_NAMESPACE, PROJECTS } from '../argocd/application.js';
import type { RenderContext } from '../components/component.js';
import { CLUSTER_SECRET_STORE, NAMESPACES } from '../platform-names.js';
import { addOnLabels, type AddOn } from './addon.js';
import { WORKLOAD_IDENTITIES } from '../../bootstrap/names.js';

const NAME = 'secret-store';

/** Namespaces allowed to use the store: those that render ExternalSecrets. */
export const SECRET_STORE_NAMESPACES: readonly string[] = [
  ARGOCD_NAMESPACE,
  NAMESPACES.tailscale,
  NAMESPACES.database,
  NAMESPACES.redis,
  NAMESPACES.litellm,
  NAMESPACES.openWebUI,
  NAMESPACES.monitoring,
  NAMESPACES.grafana,
].sort();

export function clusterSecretStore(scope: Chart, { config }: RenderContext): ApiObject {
  return new ApiObject(scope, 'cluster-secret-store', {
    apiVersion: 'external-secrets.io/v1',
    kind: 'ClusterSecretStore',
    metadata: { name: CLUSTER_SECRET_STORE, labels: addOnLabels(NAME) },
    spec: {
      provider: {
        aws: {
          service: 'SecretsManager',
          region: config.aws.region,
          auth: { jwt: { serviceAccountRef: { name: WORKLOAD_IDENTITIES.externalSecrets.serviceAccount, namespace: WORKLOAD_IDENTITIES.externalSecrets.namespace } } },
        },
      },
      conditions: [{ namespaces: [...SECRET_STORE_NAMESPACES] }],
    },
  });
}

export const secretStore: AddOn = {
  enabled: () => true,
  info: ({ config }) => ({
    folder: NAME,
    description: `ClusterSecretStore ${CLUSTER_SECRET_STORE}: AWS Secrets Manager in ${config.aws.region} through External Secrets' own role (JWT auth)`,
    versions: {},
  }),
  build: (chart, context) => {
    clusterSecretStore(chart, context);
  },
  application: () => ({ project: PROJECTS.platform, wave: APPLICATION_WAVE.secretStore, namespace: NAMESPACES.externalSecrets }),
};
