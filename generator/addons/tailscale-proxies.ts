/**
 * The ProxyClass every Tailscale proxy uses. Ingress proxies run tailscaled in
 * userspace mode, so they need no privileged init container and no extra
 * capabilities: the class runs them non-root with every capability dropped,
 * which the restricted `tailscale` namespace enforces anyway.
 */
import { ApiObject, type Chart } from 'cdk8s';
import { APPLICATION_WAVE, PROJECTS } from '../argocd/application.js';
import { restrictedContainerSecurityContext, SERVICE_IDS } from '../k8s/security.js';
import { NAMESPACES } from '../platform-names.js';
import { addOnLabels, type AddOn } from './addon.js';
import { TAILSCALE_PROXY_CLASS } from './tailscale.js';

const NAME = 'tailscale-proxies';
const PROXY_UID = SERVICE_IDS.tailscaleProxy;

export function proxyClassSpec(): Record<string, unknown> {
  const { readOnlyRootFilesystem: _writableTmp, ...container } = restrictedContainerSecurityContext();
  return {
    statefulSet: {
      pod: {
        securityContext: { runAsNonRoot: true, runAsUser: PROXY_UID, runAsGroup: PROXY_UID, fsGroup: PROXY_UID, seccompProfile: { type: 'RuntimeDefault' } },
        tailscaleContainer: {
          securityContext: container,
          resources: { requests: { cpu: '10m', memory: '64Mi' }, limits: { memory: '256Mi' } },
        },
        tailscaleInitContainer: { securityContext: container },
      },
    },
    tailscale: { acceptRoutes: false },
  };
}

export const tailscaleProxies: AddOn = {
  enabled: () => true,
  info: () => ({ folder: NAME, description: `ProxyClass ${TAILSCALE_PROXY_CLASS}: non-root, no capabilities, for every Tailscale proxy`, versions: {} }),
  build(chart: Chart) {
    new ApiObject(chart, 'proxy-class', {
      apiVersion: 'tailscale.com/v1alpha1',
      kind: 'ProxyClass',
      metadata: { name: TAILSCALE_PROXY_CLASS, labels: addOnLabels(NAME) },
      spec: proxyClassSpec(),
    });
  },
  application: () => ({ project: PROJECTS.platform, wave: APPLICATION_WAVE.addOnConfig, namespace: NAMESPACES.tailscale }),
};
