/**
 * npm run ops -- rotate <secret> --env NAME
 *
 * A new value for a secret the stack generated: written to Secrets Manager,
 * every ExternalSecret that reads it refreshed at once (External Secrets'
 * `external-secrets.io/force-sync` annotation: a changed annotation changes
 * the resource version ESO compares, so it syncs now instead of at
 * refreshInterval), then the workloads whose pods read the refreshed Secrets
 * restarted, the way `kubectl rollout restart` does: a `restartedAt`
 * annotation on the pod template. Argo CD does not see that as drift (the
 * field is in neither the rendered manifest nor Argo CD's last applied
 * state), so no ignoreDifferences is needed. Which ExternalSecrets and
 * workloads are involved is read from rendered/<env>/, not listed here.
 *
 * The verb owns the restarts of the secrets it rotates, in order. Reloader
 * (generator/addons/reloader.ts) is keyed per Secret
 * (`secret.reloader.stakater.com/reload`, never `auto`) on the Secrets that
 * carry the RDS-managed Aurora password, which RDS rotates without this verb.
 * Those Secrets also carry generated secrets, so Reloader restarts the same
 * Deployments when this verb's ESO refresh lands, just before this verb's own
 * restart; the order holds (the refresh comes after the Valkey password is
 * added, Valkey restarts after its clients) and the rollout ends on this
 * verb's template (docs/operations.md, "Automatic restart after an RDS
 * rotation").
 *
 * The Valkey password keeps clients working: the new password is first added
 * to the running Valkey (ACL SETUSER default >new: both are accepted), then
 * the clients restart with the new one, then Valkey restarts last (only the
 * new one).
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { PutSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { UsageError } from '../../bootstrap/lib/args.js';
import { awsClients } from '../../bootstrap/lib/aws-clients.js';
import { BootstrapError } from '../../bootstrap/lib/errors.js';
import type { EnvConfig } from '../../generator/config/schema.js';
import { VALKEY_AUTH_DIR, VALKEY_AUTH_KEYS } from '../../generator/components/redis.js';
import { GENERATED_SECRETS, NAMESPACES, secretsManagerName } from '../../generator/platform-names.js';
import { defaultKubeconfig, KUBECONFIG_OPTION, lazyKube, RESOURCES, waitUntil, type KubeClient } from '../kube.js';
import { executePlan, type Plan, type Step } from '../plan.js';
import { externalSecretsReading, renderedObjects, targetSecret, workloadsReadingSecret, type RenderedObject } from '../rendered.js';
import type { Verb, VerbContext } from '../verb.js';

export const FORCE_SYNC_ANNOTATION = 'external-secrets.io/force-sync';
export const RESTARTED_AT_ANNOTATION = 'kubectl.kubernetes.io/restartedAt';

interface Rotatable {
  reference: string;
  consequences: string[];
  /** Restart these (namespace/name of Deployments or StatefulSets) last, after every other reader. */
  server?: { namespace: string; name: string; container: string };
}

export const ROTATABLE: Record<string, Rotatable> = {
  'litellm-master-key': {
    reference: GENERATED_SECRETS.litellmMasterKey,
    consequences: ['every client using the old master key (Open WebUI is updated here; scripts and people holding it are not) gets 401 until it uses the new one; virtual keys stay valid'],
  },
  'valkey-password': {
    reference: GENERATED_SECRETS.redisPassword,
    consequences: ['clients keep working: the new password is added to the running Valkey before they restart, and Valkey restarts last (its clients reconnect once)'],
    server: { namespace: NAMESPACES.redis, name: 'redis', container: 'valkey' },
  },
  'webui-secret-key': {
    reference: GENERATED_SECRETS.openWebUISecretKey,
    consequences: ['everyone is logged out of Open WebUI: the key signs its session tokens, so every existing session becomes invalid and every user must sign in again'],
  },
};

export const REFUSED: Record<string, string> = {
  'litellm-salt-key': 'LiteLLM encrypts the credentials it stores in its database (provider keys added through its UI or API) with the salt key; a new one makes them unreadable. It can never change.',
  'k3s-token': 'nodes join the cluster and encrypt bootstrap data with the K3s token; it is changed with `k3s token rotate` on a server, not by writing Secrets Manager.',
  'sa-signing-key': 'every service-account token and every AWS role session of the pods is signed with it; a new key must be published beside the old one until old tokens expire: follow "Rotating the signing key" in docs/workload-identity.md.',
};

/** 64 letters and digits, like the stack's GenerateSecretString (PasswordLength 64, ExcludePunctuation). */
export function newSecretValue(length = 64): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  let value = '';
  while (value.length < length) for (const byte of randomBytes(length)) if (byte < 248 && value.length < length) value += alphabet[byte % 62];
  return value;
}

export interface RotateDeps {
  kube: () => KubeClient;
  secrets: () => SecretsManagerClient;
  /** Adds a password to the running Valkey (kubectl exec); replaced in tests that have no kubelet. */
  addValkeyPassword: (server: NonNullable<Rotatable['server']>, password: string) => Promise<void>;
  timeoutMs: number;
  stepMs?: number;
  now?: () => Date;
}

function resourceOf(workload: RenderedObject) {
  return workload.kind === 'StatefulSet' ? RESOURCES.statefulset : RESOURCES.deployment;
}

/** Sets the restartedAt annotation on each workload's pod template; returns the generation each must reach. */
function restartStep(deps: RotateDeps, workloads: RenderedObject[], stamp: () => string, generations: Map<string, number>): Step {
  return {
    title: `restart ${workloads.map((entry) => `${entry.kind} ${entry.namespace}/${entry.name}`).join(', ')} (pod template annotation ${RESTARTED_AT_ANNOTATION})`,
    async run() {
      for (const entry of workloads) {
        const patched = await deps.kube().mergePatch(resourceOf(entry), entry.namespace, entry.name, { spec: { template: { metadata: { annotations: { [RESTARTED_AT_ANNOTATION]: stamp() } } } } });
        generations.set(`${entry.namespace}/${entry.name}`, Number(patched.metadata.generation ?? 0));
      }
    },
  };
}

function rolloutStep(deps: RotateDeps, workloads: RenderedObject[], generations: Map<string, number>): Step {
  return {
    title: `wait until ${workloads.map((entry) => `${entry.namespace}/${entry.name}`).join(', ')} run only restarted pods`,
    async run() {
      for (const entry of workloads) {
        const key = `${entry.namespace}/${entry.name}`;
        await waitUntil(`${entry.kind} ${key} to finish its rollout (every replica updated and available)`, deps.timeoutMs, async () => {
          const live = await deps.kube().get(resourceOf(entry), entry.namespace, entry.name);
          const want = live.spec?.replicas ?? 1;
          const status = live.status ?? {};
          const done = (status.observedGeneration ?? 0) >= (generations.get(key) ?? 0) && (status.updatedReplicas ?? 0) === want && (status.availableReplicas ?? 0) === want && (status.replicas ?? 0) === want;
          return done ? true : undefined;
        }, deps.stepMs);
      }
    },
  };
}

export function rotatePlan(context: VerbContext, deps: RotateDeps): Plan {
  const [secret, ...extra] = context.positionals;
  if (!secret || extra.length > 0) throw new UsageError(`rotate takes one secret: ${Object.keys(ROTATABLE).join(', ')}`);
  if (REFUSED[secret]) throw new BootstrapError(`${secret} is not rotated: ${REFUSED[secret]}`);
  const rotatable = ROTATABLE[secret];
  if (!rotatable) throw new UsageError(`unknown secret "${secret}"; rotate one of: ${Object.keys(ROTATABLE).join(', ')}`);
  const config: EnvConfig = context.config;
  const name = secretsManagerName(config, rotatable.reference);
  const objects = renderedObjects(context.root, config.name);
  const externalSecrets = externalSecretsReading(objects, name);
  if (externalSecrets.length === 0) throw new BootstrapError(`rendered/${config.name}/ has no ExternalSecret reading ${name}`, 'render the environment (npm run render) and run again');
  const readers = externalSecrets.flatMap((entry) => workloadsReadingSecret(objects, entry.namespace, targetSecret(entry)));
  const unique = readers.filter((entry, index) => readers.findIndex((other) => other.file === entry.file) === index);
  const server = rotatable.server;
  const isServer = (entry: RenderedObject) => server !== undefined && entry.namespace === server.namespace && entry.name === server.name;
  const clients = unique.filter((entry) => !isServer(entry));
  const servers = unique.filter(isServer);
  const now = deps.now ?? (() => new Date());
  const value = newSecretValue();
  let requestedAt = '';
  const generations = new Map<string, number>();

  const steps: Step[] = [
    {
      title: `write a new value to Secrets Manager ${name} (the old one stays as its AWSPREVIOUS version)`,
      destructive: true,
      async run() {
        await deps.secrets().send(new PutSecretValueCommand({ SecretId: name, SecretString: value }));
      },
    },
  ];
  if (server)
    steps.push({
      title: `add the new password to the running ${server.namespace}/${server.name} (ACL SETUSER default >…), so old and new are both accepted`,
      run: () => deps.addValkeyPassword(server, value),
    });
  steps.push({
    title: `refresh ExternalSecret ${externalSecrets.map((entry) => `${entry.namespace}/${entry.name}`).join(', ')} now (${FORCE_SYNC_ANNOTATION}) and wait until each has synced`,
    async run() {
      requestedAt = now().toISOString();
      // Any sync after this read fetches the new value (it is already in Secrets Manager): wait for refreshTime to move, not for a clock.
      const previous = new Map<string, string | undefined>();
      for (const entry of externalSecrets) {
        previous.set(entry.file, (await deps.kube().get(RESOURCES.externalSecret, entry.namespace, entry.name)).status?.refreshTime);
        await deps.kube().mergePatch(RESOURCES.externalSecret, entry.namespace, entry.name, { metadata: { annotations: { [FORCE_SYNC_ANNOTATION]: requestedAt } } });
      }
      for (const entry of externalSecrets)
        await waitUntil(`ExternalSecret ${entry.namespace}/${entry.name} to sync again (status.refreshTime newer than ${previous.get(entry.file) ?? 'never'})`, deps.timeoutMs, async () => {
          const status = (await deps.kube().get(RESOURCES.externalSecret, entry.namespace, entry.name)).status ?? {};
          const ready = (status.conditions ?? []).find((condition: { type: string }) => condition.type === 'Ready');
          const synced = status.refreshTime !== undefined && status.refreshTime !== previous.get(entry.file);
          if (synced && ready?.status === 'False') throw new BootstrapError(`ExternalSecret ${entry.namespace}/${entry.name} is not Ready: ${ready.reason ?? ''} ${ready.message ?? ''}`.trim(), 'fix the store or the secret; the new value is in Secrets Manager, so run the verb again (a new value again) or refresh by hand');
          return synced && ready?.status === 'True' ? true : undefined;
        }, deps.stepMs);
    },
  });
  const stamp = () => requestedAt || now().toISOString();
  if (clients.length > 0) steps.push(restartStep(deps, clients, stamp, generations), rolloutStep(deps, clients, generations));
  if (servers.length > 0) steps.push(restartStep(deps, servers, stamp, generations), rolloutStep(deps, servers, generations));
  return { summary: `rotate ${secret} of ${config.name} (${name})`, consequences: rotatable.consequences, steps };
}

/** Where the Valkey container reads its password (generator/components/redis.ts). */
const VALKEY_PASSWORD_FILE = `${VALKEY_AUTH_DIR}/${VALKEY_AUTH_KEYS.password}`;

/**
 * `kubectl exec` into the Valkey Deployment: the password file the running server was started with (mounted from
 * its Secret, still the old value: the ExternalSecret is refreshed only after this step) authenticates.
 */
export function kubectlAddValkeyPassword(kubeconfig: string, kubectl = 'kubectl'): RotateDeps['addValkeyPassword'] {
  return (server, password) =>
    new Promise((resolvePromise, reject) => {
      const child = spawn(kubectl, ['--kubeconfig', kubeconfig, '-n', server.namespace, 'exec', '-i', `deployment/${server.name}`, '-c', server.container, '--', 'sh', '-c', `read -r password && REDISCLI_AUTH="$(cat ${VALKEY_PASSWORD_FILE})" valkey-cli -h 127.0.0.1 -p 6379 ACL SETUSER default on ">$password" | grep -qx OK`], { stdio: ['pipe', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.on('error', (error) => reject(new BootstrapError(`could not run ${kubectl}: ${error.message}`, 'install kubectl or pass --kubectl PATH')));
      child.on('close', (code) => (code === 0 ? resolvePromise() : reject(new BootstrapError(`adding the new password to ${server.namespace}/${server.name} failed (exit ${code}): ${stderr.trim()}`, 'the new value is in Secrets Manager but no pod uses it yet; check the Valkey pod and run the verb again'))));
      child.stdin.end(`${password}\n`);
    });
}

export const rotate: Verb = {
  name: 'rotate',
  summary: 'new value for a generated secret (litellm-master-key, valkey-password, webui-secret-key), then the pods that read it restart',
  usage: '<litellm-master-key|valkey-password|webui-secret-key> [--kubeconfig FILE] [--kubectl PATH] [--timeout SECONDS]',
  options: { ...KUBECONFIG_OPTION, kubectl: { type: 'string', default: 'kubectl' }, timeout: { type: 'string', default: '600' } },
  async run(context) {
    const timeout = Number(context.values.timeout);
    if (!Number.isInteger(timeout) || timeout <= 0) throw new UsageError(`--timeout must be a whole number of seconds, got ${String(context.values.timeout)}`);
    const kubeconfig = typeof context.values.kubeconfig === 'string' ? context.values.kubeconfig : defaultKubeconfig(context.config.name);
    let secrets: SecretsManagerClient | undefined;
    const plan = rotatePlan(context, {
      kube: lazyKube(context.values, context.config.name),
      secrets: () => (secrets ??= awsClients({ region: context.config.aws.region, ...(process.env.AWS_ENDPOINT_URL ? { endpoint: process.env.AWS_ENDPOINT_URL } : {}) }).secrets),
      addValkeyPassword: kubectlAddValkeyPassword(kubeconfig, String(context.values.kubectl)),
      timeoutMs: timeout * 1000,
    });
    return executePlan(plan, context.run);
  },
};
