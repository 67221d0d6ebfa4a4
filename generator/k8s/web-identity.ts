/**
 * AWS web identity for a container (docs/workload-identity.md): a projected
 * service-account token for the sts.amazonaws.com audience, and the two
 * variables every AWS SDK's default credential chain reads (AWS_ROLE_ARN,
 * AWS_WEB_IDENTITY_TOKEN_FILE). Rendered directly rather than injected by the
 * EKS pod identity webhook: the rendered tree then shows exactly what each
 * pod gets, and no extra admission webhook sits in the path of every pod.
 */
import type { k8s } from 'cdk8s-plus-28';
import { STS_AUDIENCE } from '../../bootstrap/names.js';

export const WEB_IDENTITY_VOLUME = 'aws-web-identity';
/** The path the EKS webhook uses too, so the tools that look there find it. */
export const WEB_IDENTITY_DIR = '/var/run/secrets/sts.amazonaws.com/serviceaccount';
export const WEB_IDENTITY_TOKEN_FILE = `${WEB_IDENTITY_DIR}/token`;
/** One hour: the kubelet renews the token at 80% of its life; a stolen copy is useless soon after. */
export const WEB_IDENTITY_TOKEN_SECONDS = 3600;

export interface WebIdentity {
  roleArn: string;
  region: string;
}

export function webIdentityEnv(identity: WebIdentity): k8s.EnvVar[] {
  return [
    { name: 'AWS_ROLE_ARN', value: identity.roleArn },
    { name: 'AWS_WEB_IDENTITY_TOKEN_FILE', value: WEB_IDENTITY_TOKEN_FILE },
    { name: 'AWS_REGION', value: identity.region },
    { name: 'AWS_DEFAULT_REGION', value: identity.region },
    // STS in the environment's region, not the global endpoint.
    { name: 'AWS_STS_REGIONAL_ENDPOINTS', value: 'regional' },
  ];
}

export const webIdentityMount: k8s.VolumeMount = { name: WEB_IDENTITY_VOLUME, mountPath: WEB_IDENTITY_DIR, readOnly: true };

export const webIdentityVolume: k8s.Volume = {
  name: WEB_IDENTITY_VOLUME,
  projected: {
    defaultMode: 0o444,
    sources: [{ serviceAccountToken: { audience: STS_AUDIENCE, expirationSeconds: WEB_IDENTITY_TOKEN_SECONDS, path: 'token' } }],
  },
};
