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

export interface SettingsSecretProps {
  name: string;
  namespace: string;
  labels: Labels;
  /** Fixed settings, none of them a credential (the plaintext-credential rule checks the generator's data). */
  settings: Record<string, string>;
  /** Why a Secret is needed at all for values that are not secret. */
  reason: string;
}

/**
 * A Secret of fixed, non-secret settings, for a chart or controller that
 * insists on reading them from a Secret (Longhorn's backup target). ESO makes
 * it from its Fake generator, which returns the static data given: no store is
 * read, git holds no Secret, and the ExternalSecret owns the result like any other.
 */
export function settingsSecret(scope: Construct, props: SettingsSecretProps): { secretName: string } {
  const generator = new ApiObject(scope, `settings-${props.name}`, {
    apiVersion: 'generators.external-secrets.io/v1alpha1',
    kind: 'Fake',
    metadata: { name: props.name, namespace: props.namespace, labels: props.labels, annotations: { ...syncWave(SYNC_WAVE.secrets), [SETTINGS_REASON_ANNOTATION]: props.reason } },
    spec: { data: props.settings },
  });
  new ApiObject(scope, `external-secret-${props.name}`, {
    apiVersion: ExternalSecret.API_VERSION,
    kind: ExternalSecret.KIND,
    metadata: { name: props.name, namespace: props.namespace, labels: props.labels, annotations: syncWave(SYNC_WAVE.secrets) },
    spec: {
      refreshInterval: '1h',
      target: { name: props.name, creationPolicy: 'Owner', deletionPolicy: 'Retain' },
      dataFrom: [{ sourceRef: { generatorRef: { apiVersion: generator.apiVersion, kind: generator.kind, name: props.name } } }],
    },
  });
  return { secretName: props.name };
}

/** On a settings generator: why its values live in a Secret. */
export const SETTINGS_REASON_ANNOTATION = 'dubai-hub.io/settings-secret-reason';

/** Whether an ExternalSecret is a settings Secret (only Fake generators, no store): it reads nothing from Secrets Manager. */
export function readsNoStore(spec: { data?: unknown[]; dataFrom?: { sourceRef?: { generatorRef?: { kind?: string } } }[]; secretStoreRef?: unknown } | undefined): boolean {
  return !spec?.secretStoreRef && !(spec?.data ?? []).length && (spec?.dataFrom ?? []).length > 0 && (spec?.dataFrom ?? []).every((source) => source.sourceRef?.generatorRef?.kind === 'Fake');
}
