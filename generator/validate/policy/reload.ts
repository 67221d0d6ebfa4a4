/**
 * A workload that reads a Secret filled from an RDS-managed (rotating)
 * secret must be restarted by Reloader when RDS rotates it: it names each
 * such Secret in `secret.reloader.stakater.com/reload`, does not use
 * Reloader's `auto` annotations (they would also restart it, uncoordinated,
 * when `npm run ops -- rotate` changes another Secret it reads), and a
 * Reloader Deployment watches its namespace (`--namespaces=`).
 */
import { isRdsManagedSecret, RELOAD_SECRET_ANNOTATION, rotatingSecretsOf, secretsSourcedFrom, type JsonObject } from '../../addons/reloader.js';
import { asArray, get, violation, type PolicyRule, type Violation } from './rule.js';

const AUTO_ANNOTATIONS = ['reloader.stakater.com/auto', 'secret.reloader.stakater.com/auto'];

/** The namespaces some Reloader container watches, from its `--namespaces=a,b` argument. */
function watchedNamespaces(objects: readonly JsonObject[]): Set<string> {
  const watched = new Set<string>();
  for (const object of objects) {
    if (object.kind !== 'Deployment') continue;
    for (const container of asArray(get(object, ['spec', 'template', 'spec', 'containers']))) {
      if (!String(get(container, ['image']) ?? '').includes('/stakater/reloader:')) continue;
      for (const arg of asArray(get(container, ['args']))) {
        const match = /^--namespaces=(.*)$/.exec(String(arg));
        if (match) for (const namespace of match[1]!.split(',')) if (namespace) watched.add(namespace);
      }
    }
  }
  return watched;
}

export const RELOAD_RULES: PolicyRule[] = [
  {
    id: 'reload-on-rotation',
    reason: 'RDS rotates the Aurora master password by itself; a workload that reads it only at start must be restarted by Reloader, keyed on that Secret, or its new connections fail.',
    mirrors: ['project rule (stakater/Reloader secret.reloader.stakater.com/reload)'],
    check: (context) => {
      const objects = context.docs.map((doc) => doc.object as JsonObject);
      const rotating = secretsSourcedFrom(objects, isRdsManagedSecret);
      const watched = watchedNamespaces(objects);
      const found: Violation[] = [];
      for (const doc of context.docs) {
        const secrets = rotatingSecretsOf(doc.object as JsonObject, rotating);
        if (secrets.length === 0) continue;
        const annotations = (doc.object.metadata?.annotations ?? {}) as Record<string, string>;
        const named = new Set((annotations[RELOAD_SECRET_ANNOTATION] ?? '').split(',').map((name) => name.trim()).filter(Boolean));
        const missing = secrets.filter((name) => !named.has(name));
        const where = ['metadata', 'annotations'];
        if (missing.length > 0) {
          found.push(violation(doc, annotations[RELOAD_SECRET_ANNOTATION] === undefined ? where : [...where, RELOAD_SECRET_ANNOTATION], `reads Secret ${missing.join(', ')}, filled from an RDS-managed secret that RDS rotates, but ${RELOAD_SECRET_ANNOTATION} does not name it; expected ${RELOAD_SECRET_ANNOTATION}: "${[...new Set([...named, ...secrets])].sort().join(',')}" (the reloader add-on adds it to generator workloads: see generator/addons/reloader.ts)`));
        }
        for (const auto of AUTO_ANNOTATIONS) {
          if (auto in annotations) found.push(violation(doc, [...where, auto], `${auto} would also restart it, uncoordinated, when \`npm run ops -- rotate\` changes another Secret it reads; name the rotating Secrets in ${RELOAD_SECRET_ANNOTATION} instead`));
        }
        const namespace = doc.object.metadata?.namespace ?? '';
        if (!watched.has(namespace)) found.push(violation(doc, ['metadata', 'namespace'], `no Reloader Deployment watches namespace ${namespace} (its --namespaces argument), so the reload annotation does nothing; the reloader add-on derives that list from the rendered workloads`));
      }
      return found;
    },
  },
];
