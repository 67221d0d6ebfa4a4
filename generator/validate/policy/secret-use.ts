/** Secrets reach pods only from Secrets that External Secrets makes, never as literal values. */
import { containersOf, podTemplates } from './pods.js';
import { asArray, get, isRecord, namespaceOf, violation, type Path, type PolicyContext, type PolicyRule, type Violation } from './rule.js';

const CREDENTIAL_WORDS = new Set(['PASSWORD', 'PASSWD', 'SECRET', 'TOKEN', 'APIKEY', 'CREDENTIAL', 'CREDENTIALS', 'PRIVATEKEY']);
const CREDENTIAL_KEYS = new Set(['API', 'PRIVATE', 'ACCESS', 'MASTER', 'SALT', 'AUTH', 'SIGNING', 'ENCRYPTION']);

/**
 * Whether a variable or key holds a credential, judged by its words
 * (`OAUTH_CLIENT_SECRET`, `dbPassword`, `LITELLM_MASTER_KEY`) with a value
 * that could be one: `TOKENIZERS_PARALLELISM=false`, `ENABLE_API_KEY=True` and
 * `S3_KEY_PREFIX` are settings, not secrets.
 */
export function looksLikeCredential(name: string, value: string): boolean {
  if (value === '' || /^(true|false|yes|no|on|off|\d+)$/i.test(value)) return false;
  // A *_FILE variable holding an absolute path names where a credential is mounted (AWS_WEB_IDENTITY_TOKEN_FILE), not the credential.
  if (/_FILE$/.test(name) && /^\/[A-Za-z0-9._/-]+$/.test(value)) return false;
  const words = name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase().split(/[^A-Z0-9]+/);
  return words.some((word, index) => CREDENTIAL_WORDS.has(word) || (word === 'KEY' && index > 0 && CREDENTIAL_KEYS.has(words[index - 1]!)));
}

/** Names of the Secrets the rendered ExternalSecrets create, per namespace. */
function externalSecretTargets(context: PolicyContext): Set<string> {
  const names = new Set<string>();
  for (const doc of context.ofKind('ExternalSecret')) {
    const target = get(doc.object, ['spec', 'target', 'name']) ?? doc.object.metadata?.name;
    names.add(`${namespaceOf(doc.object) ?? ''}/${String(target)}`);
  }
  return names;
}

export const SECRET_USE_RULES: PolicyRule[] = [
  {
    id: 'no-plaintext-secret-env',
    reason: 'A credential written into a manifest is in git history forever; it must come from a Secret.',
    mirrors: ['kube-linter env-var-secret'],
    check: (context) => {
      const found: Violation[] = [];
      for (const pod of podTemplates(context.docs)) {
        for (const ref of containersOf(pod)) {
          asArray(ref.container.env).forEach((entry, index) => {
            if (isRecord(entry) && typeof entry.value === 'string' && looksLikeCredential(String(entry.name), entry.value)) {
              found.push(violation(pod.doc, [...ref.path, 'env', index, 'value'], `variable ${String(entry.name)} looks like a credential but has a literal value; use valueFrom.secretKeyRef to an ExternalSecret-made Secret`));
            }
          });
        }
      }
      // ConfigMaps, and the static data of ESO's Fake generator (settings Secrets, generator/k8s/external-secret.ts).
      for (const [kind, path] of [['ConfigMap', ['data']], ['Fake', ['spec', 'data']]] as const) {
        for (const doc of context.ofKind(kind)) {
          const data = get(doc.object, [...path]);
          if (!isRecord(data)) continue;
          for (const [key, value] of Object.entries(data)) {
            if (typeof value === 'string' && looksLikeCredential(key, value)) {
              found.push(violation(doc, [...path, key], `key ${key} looks like a credential in a ${kind === 'Fake' ? 'Fake generator (static, in git)' : 'ConfigMap'}; put it in Secrets Manager and deliver it with an ExternalSecret`));
            }
          }
        }
      }
      return found;
    },
  },
  {
    id: 'secret-from-external-secret',
    reason: 'Every Secret a pod reads must be made by an ExternalSecret from AWS Secrets Manager, so git never holds one.',
    mirrors: ['project rule (External Secrets Operator); complements kube-linter env-var-secret'],
    check: (context) => {
      const made = externalSecretTargets(context);
      const found: Violation[] = [];
      for (const pod of podTemplates(context.docs)) {
        const namespace = namespaceOf(pod.doc.object) ?? '';
        const need = (name: unknown, path: Path) => {
          if (!made.has(`${namespace}/${String(name)}`)) found.push(violation(pod.doc, path, `reads Secret "${String(name)}", which no ExternalSecret in namespace ${namespace} creates`));
        };
        for (const ref of containersOf(pod)) {
          asArray(ref.container.env).forEach((entry, index) => {
            const secretRef = get(entry, ['valueFrom', 'secretKeyRef']);
            if (isRecord(secretRef)) need(secretRef.name, [...ref.path, 'env', index, 'valueFrom', 'secretKeyRef', 'name']);
          });
          asArray(ref.container.envFrom).forEach((entry, index) => {
            const secretRef = get(entry, ['secretRef']);
            if (isRecord(secretRef)) need(secretRef.name, [...ref.path, 'envFrom', index, 'secretRef', 'name']);
          });
        }
        asArray(pod.spec.volumes).forEach((volume, index) => {
          const secret = get(volume, ['secret']);
          if (isRecord(secret)) need(secret.secretName, [...pod.specPath, 'volumes', index, 'secret', 'secretName']);
          asArray(get(volume, ['projected', 'sources'])).forEach((source, sourceIndex) => {
            const projected = get(source, ['secret']);
            if (isRecord(projected)) need(projected.name, [...pod.specPath, 'volumes', index, 'projected', 'sources', sourceIndex, 'secret', 'name']);
          });
        });
      }
      return found;
    },
  },
];
