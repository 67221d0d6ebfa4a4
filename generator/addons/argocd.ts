/**
 * Argo CD managing itself: the same chart and values the bootstrap HelmChart
 * installed, its namespace, repository credentials from an ExternalSecret when
 * the repository is private, and its UI on the tailnet.
 */
import { APPLICATION_WAVE, ARGOCD_NAMESPACE } from '../argocd/application.js';
import { ARGOCD_RELEASE, ARGOCD_SERVER_SERVICE, argocdHelmValues } from '../argocd/bootstrap-manifests.js';
import { ExternalSecret } from '../k8s/external-secret.js';
import { secretsManagerName } from '../platform-names.js';
import { chartAddOn, type AddOn } from './addon.js';
import { tailnetIngress } from './ingress.js';

const NAME = 'argocd';
export const REPOSITORY_SECRET = 'repository-credentials';

export const argocd: AddOn = chartAddOn({
  folder: NAME,
  namespace: ARGOCD_NAMESPACE,
  chart: 'argocd',
  releaseName: ARGOCD_RELEASE,
  wave: APPLICATION_WAVE.argocd,
  description: ({ config }) => `Argo CD (chart, self-managed), its namespace, its UI on the tailnet${config.git.credentialsSecret ? ' and repository credentials' : ''}`,
  values: ({ config }) => argocdHelmValues(config),
  // Deleting this namespace would delete Argo CD itself: never pruned, never deleted.
  holdsData: true,
  // Its CRDs (ApplicationSet above all) are too large for client-side apply.
  serverSideApply: true,
  build(chart, { config }, labels) {
    tailnetIngress(chart, {
      name: 'argocd-server-tailnet',
      namespace: ARGOCD_NAMESPACE,
      labels,
      service: { name: ARGOCD_SERVER_SERVICE, port: 80 },
      machineName: config.hostnames.argocd,
    });
    if (config.git.credentialsSecret) {
      const remoteKey = secretsManagerName(config, config.git.credentialsSecret);
      new ExternalSecret(chart, {
        name: REPOSITORY_SECRET,
        namespace: ARGOCD_NAMESPACE,
        labels,
        values: [
          { secretKey: 'username', remoteKey, property: 'username' },
          { secretKey: 'password', remoteKey, property: 'password' },
        ],
        secretLabels: { 'argocd.argoproj.io/secret-type': 'repository' },
        template: { type: 'git', url: config.git.repoURL, username: '{{ .username }}', password: '{{ .password }}' },
      });
    }
  },
});
