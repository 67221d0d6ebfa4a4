/**
 * Ingresses: HTTPS on the tailnet through the Tailscale operator (the way in),
 * and, where an environment chooses it, a public HTTPS ingress through K3s's
 * Traefik with a certificate from cert-manager (443 only).
 */
import { k8s } from 'cdk8s-plus-28';
import type { Construct } from 'constructs';
import type { Labels } from '../k8s/labels.js';
import { TAILSCALE_PROXY_CLASS } from './tailscale.js';

export const TAILSCALE_INGRESS_CLASS = 'tailscale';
export const TRAEFIK_INGRESS_CLASS = 'traefik';
export const ACME_CLUSTER_ISSUER = 'letsencrypt';

export interface IngressProps {
  name: string;
  namespace: string;
  labels: Labels;
  service: { name: string; port: number };
}

function backend(props: IngressProps): k8s.IngressBackend {
  return { service: { name: props.service.name, port: { number: props.service.port } } };
}

/** `https://<machine>.<tailnet>`: the operator takes the machine name from the TLS host. */
export function tailnetIngress(scope: Construct, props: IngressProps & { machineName: string }): k8s.KubeIngress {
  return new k8s.KubeIngress(scope, `ingress-${props.name}`, {
    metadata: {
      name: props.name,
      namespace: props.namespace,
      labels: { ...props.labels, 'tailscale.com/proxy-class': TAILSCALE_PROXY_CLASS },
    },
    spec: { ingressClassName: TAILSCALE_INGRESS_CLASS, defaultBackend: backend(props), tls: [{ hosts: [props.machineName] }] },
  });
}

/** Public HTTPS on the websecure entrypoint only; cert-manager fills the TLS Secret. */
export function publicIngress(scope: Construct, props: IngressProps & { host: string }): k8s.KubeIngress {
  return new k8s.KubeIngress(scope, `ingress-${props.name}`, {
    metadata: {
      name: props.name,
      namespace: props.namespace,
      labels: props.labels,
      annotations: {
        'cert-manager.io/cluster-issuer': ACME_CLUSTER_ISSUER,
        'traefik.ingress.kubernetes.io/router.entrypoints': 'websecure',
        'traefik.ingress.kubernetes.io/router.tls': 'true',
      },
    },
    spec: {
      ingressClassName: TRAEFIK_INGRESS_CLASS,
      rules: [{ host: props.host, http: { paths: [{ path: '/', pathType: 'Prefix', backend: backend(props) }] } }],
      tls: [{ hosts: [props.host], secretName: `${props.name}-tls` }],
    },
  });
}
