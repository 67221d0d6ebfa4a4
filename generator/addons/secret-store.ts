/**
 * The ClusterSecretStore every ExternalSecret reads from: AWS Secrets Manager
 * in the environment's region. No auth block: the controller uses the default
 * AWS credential chain, i.e. the node's instance profile (no static keys).
 */
import { ApiObject, type Chart } from 'cdk8s';
import { APPLICATION_WAVE, ARGOCD_NAMESPACE, PROJECTS } from '../argocd/application.js';
import type { RenderContext } from '../components/component.js';
import { CLUSTER_SECRET_STORE, NAMESPACES } from '../platform-names.js';
import { addOnLabels, type AddOn } from './addon.js';

const NAME = 'secret-store';

/** Namespaces allowed to use the store: those that render ExternalSecrets. */
export const SECRET_STORE_NAMESPACES: readonly string[] = [
  ARGOCD_NAMESPACE,
  NAMESPACES.tailscale,
  NAMESPACES.database,
  NAMESPACES.redis,
  NAMESPACES.litellm,
  NAMESPACES.openWebUI,
  NAMESPACES.grafana,
].sort();

export function clusterSecretStore(scope: Chart, { config }: RenderContext): ApiObject {
  return new ApiObject(scope, 'cluster-secret-store', {
    apiVersion: 'external-secrets.io/v1',
    kind: 'ClusterSecretStore',
    metadata: { name: CLUSTER_SECRET_STORE, labels: addOnLabels(NAME) },
    spec: {
      provider: { aws: { service: 'SecretsManager', region: config.aws.region } },
      conditions: [{ namespaces: [...SECRET_STORE_NAMESPACES] }],
    },
  });
}

export const secretStore: AddOn = {
  enabled: () => true,
  info: ({ config }) => ({
    folder: NAME,
    description: `ClusterSecretStore ${CLUSTER_SECRET_STORE}: AWS Secrets Manager in ${config.aws.region} through the node's instance profile`,
    versions: {},
  }),
  build: (chart, context) => {
    clusterSecretStore(chart, context);
  },
  application: () => ({ project: PROJECTS.platform, wave: APPLICATION_WAVE.secretStore, namespace: NAMESPACES.externalSecrets }),
};
