/**
 * ExternalSecret (external-secrets.io/v1): the only way a Kubernetes Secret
 * comes to exist in this repository. Values come from AWS Secrets Manager
 * through the ClusterSecretStore; templates assemble URLs from them.
 */
import { ApiObject } from 'cdk8s';
import type { Construct } from 'constructs';
import { CLUSTER_SECRET_STORE } from '../platform-names.js';
import { SYNC_WAVE, syncWave } from './sync-waves.js';
import type { Labels } from './labels.js';

export interface RemoteValue {
  /** Name of the value inside the template (and of the Secret key when untemplated). */
  secretKey: string;
  /** Secrets Manager secret name or ARN. */
  remoteKey: string;
  /** JSON property of the secret, when it holds a JSON document. */
  property?: string;
  /** How often a value that changes by itself must be re-read (the ExternalSecret takes the shortest). */
  refreshInterval?: string;
}

export interface ExternalSecretProps {
  name: string;
  namespace: string;
  labels: Labels;
  values: RemoteValue[];
  /**
   * Keys of the produced Secret built from the values with ESO templates
   * (`{{ .name }}`). Without a template the Secret holds the values as fetched.
   */
  template?: Record<string, string>;
  /** Labels of the produced Secret (with a template), e.g. for controllers that find Secrets by label. */
  secretLabels?: Labels;
  refreshInterval?: string;
}

export class ExternalSecret extends ApiObject {
  static readonly API_VERSION = 'external-secrets.io/v1';
  static readonly KIND = 'ExternalSecret';

  /** Name of the Secret this ExternalSecret produces (always its own name). */
  readonly secretName: string;

  constructor(scope: Construct, props: ExternalSecretProps) {
    super(scope, `external-secret-${props.name}`, {
      apiVersion: ExternalSecret.API_VERSION,
      kind: ExternalSecret.KIND,
      metadata: {
        name: props.name,
        namespace: props.namespace,
        labels: props.labels,
        annotations: syncWave(SYNC_WAVE.secrets),
      },
      spec: {
        refreshInterval: props.refreshInterval ?? props.values.find((value) => value.refreshInterval)?.refreshInterval ?? '1h',
        secretStoreRef: { kind: 'ClusterSecretStore', name: CLUSTER_SECRET_STORE },
        target: {
          name: props.name,
          creationPolicy: 'Owner',
          deletionPolicy: 'Retain',
          ...(props.template
            ? {
                template: {
                  engineVersion: 'v2',
                  type: 'Opaque',
                  mergePolicy: 'Replace',
                  ...(props.secretLabels ? { metadata: { labels: props.secretLabels } } : {}),
                  data: props.template,
                },
              }
            : {}),
        },
        data: props.values.map((value) => ({
          secretKey: value.secretKey,
          remoteRef: {
            key: value.remoteKey,
            ...(value.property ? { property: value.property } : {}),
            conversionStrategy: 'Default',
            decodingStrategy: 'None',
            metadataPolicy: 'None',
          },
        })),
      },
    });
    this.secretName = props.name;
  }
}

/** `postgresql://user:pass@host:port/db?sslmode=require` from a username/password secret. */
export function postgresUrlTemplate(host: string, port: number, database: string, userKey = 'username', passwordKey = 'password'): string {
  return `postgresql://{{ .${userKey} | urlquery }}:{{ .${passwordKey} | urlquery }}@${host}:${port}/${database}?sslmode=require`;
}
