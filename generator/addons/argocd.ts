/**
 * Argo CD managing itself: the same chart and values the bootstrap HelmChart
 * installed, its namespace, repository credentials from an ExternalSecret when
 * the repository is private, and its UI on the tailnet.
 */
import type { Chart } from 'cdk8s';
import { APPLICATION_WAVE, ARGOCD_NAMESPACE, PROJECTS } from '../argocd/application.js';
import { ARGOCD_RELEASE, ARGOCD_SERVER_SERVICE, argocdHelmValues } from '../argocd/bootstrap-manifests.js';
import type { RenderContext } from '../components/component.js';
import { ExternalSecret } from '../k8s/external-secret.js';
import { restrictedNamespace } from '../k8s/namespace.js';
import { secretsManagerName } from '../platform-names.js';
import { addOnLabels, chartVersion, type AddOn } from './addon.js';
import { tailnetIngress } from './ingress.js';

const NAME = 'argocd';
export const REPOSITORY_SECRET = 'repository-credentials';

export const argocd: AddOn = {
  enabled: () => true,
  info: ({ config }) => ({
    folder: NAME,
    description: `Argo CD (chart, self-managed), its namespace, its UI on the tailnet${config.git.credentialsSecret ? ' and repository credentials' : ''}`,
    versions: chartVersion(config.addons.argocd),
  }),
  build(chart: Chart, context: RenderContext) {
    const { config } = context;
    const labels = addOnLabels(NAME);
    // Deleting this namespace would delete Argo CD itself: never pruned, never deleted.
    restrictedNamespace(chart, { name: ARGOCD_NAMESPACE, labels, kubernetes: context.kubernetes, holdsData: true });
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
  application: (context) => ({
    project: PROJECTS.platform,
    wave: APPLICATION_WAVE.argocd,
    namespace: ARGOCD_NAMESPACE,
    chart: { chart: context.config.addons.argocd, releaseName: ARGOCD_RELEASE, values: argocdHelmValues(context.config) },
    // Its CRDs (ApplicationSet above all) are too large for client-side apply.
    serverSideApply: true,
  }),
};
