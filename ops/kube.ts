/**
 * The one Kubernetes client of `npm run ops`: REST over https straight to the
 * API server named by a kubeconfig (its CA, client certificate or bearer
 * token), JSON in and out, a time-out on every request. No kubectl needed on
 * the operator's machine; the tests point it at the cluster test's real
 * control plane.
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { request } from 'node:https';
import { parse } from 'yaml';
import { BootstrapError } from '../bootstrap/lib/errors.js';

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; namespace?: string; annotations?: Record<string, string>; labels?: Record<string, string>; resourceVersion?: string; creationTimestamp?: string; [key: string]: unknown };
  spec?: any;
  status?: any;
  [key: string]: unknown;
}

/** A resource type: its API group/version and plural, e.g. apps/v1 deployments. */
export interface Resource {
  apiVersion: string;
  plural: string;
  namespaced: boolean;
}

export const RESOURCES = {
  node: { apiVersion: 'v1', plural: 'nodes', namespaced: false },
  pvc: { apiVersion: 'v1', plural: 'persistentvolumeclaims', namespaced: true },
  pv: { apiVersion: 'v1', plural: 'persistentvolumes', namespaced: false },
  deployment: { apiVersion: 'apps/v1', plural: 'deployments', namespaced: true },
  statefulset: { apiVersion: 'apps/v1', plural: 'statefulsets', namespaced: true },
  replicaset: { apiVersion: 'apps/v1', plural: 'replicasets', namespaced: true },
  application: { apiVersion: 'argoproj.io/v1alpha1', plural: 'applications', namespaced: true },
  externalSecret: { apiVersion: 'external-secrets.io/v1', plural: 'externalsecrets', namespaced: true },
  longhornVolume: { apiVersion: 'longhorn.io/v1beta2', plural: 'volumes', namespaced: true },
  longhornBackup: { apiVersion: 'longhorn.io/v1beta2', plural: 'backups', namespaced: true },
  longhornBackupVolume: { apiVersion: 'longhorn.io/v1beta2', plural: 'backupvolumes', namespaced: true },
  longhornRecurringJob: { apiVersion: 'longhorn.io/v1beta2', plural: 'recurringjobs', namespaced: true },
  certificate: { apiVersion: 'cert-manager.io/v1', plural: 'certificates', namespaced: true },
} as const satisfies Record<string, Resource>;

export class KubeError extends BootstrapError {
  constructor(
    message: string,
    readonly status: number | undefined,
    fix?: string,
  ) {
    super(message, fix);
    this.name = 'KubeError';
  }
}

interface KubeconfigFile {
  clusters?: { name: string; cluster: { server: string; 'certificate-authority'?: string; 'certificate-authority-data'?: string; 'insecure-skip-tls-verify'?: boolean } }[];
  users?: { name: string; user: { 'client-certificate'?: string; 'client-certificate-data'?: string; 'client-key'?: string; 'client-key-data'?: string; token?: string } }[];
  contexts?: { name: string; context: { cluster: string; user: string } }[];
  'current-context'?: string;
}

/** Where `npm run kubeconfig` writes the environment's kubeconfig. */
export function defaultKubeconfig(env: string): string {
  return join(homedir(), '.kube', `dubai-${env}.yaml`);
}

export interface KubeClientOptions {
  timeoutMs?: number;
}

export class KubeClient {
  private constructor(
    readonly server: string,
    private readonly tls: { ca?: Buffer; cert?: Buffer; key?: Buffer },
    private readonly token: string | undefined,
    private readonly timeoutMs: number,
  ) {}

  /** Reads the kubeconfig's current context (paths in it are relative to the file). */
  static fromKubeconfig(file: string, options: KubeClientOptions = {}): KubeClient {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      throw new KubeError(`${file}: cannot read the kubeconfig (${(error as Error).message})`, undefined, 'run `npm run kubeconfig -- --env NAME` or pass --kubeconfig FILE');
    }
    const config = parse(text) as KubeconfigFile;
    const contextName = config['current-context'];
    const context = config.contexts?.find((candidate) => candidate.name === contextName)?.context;
    const cluster = config.clusters?.find((candidate) => candidate.name === context?.cluster)?.cluster;
    const user = config.users?.find((candidate) => candidate.name === context?.user)?.user;
    if (!context || !cluster || !user) throw new KubeError(`${file}: current-context "${contextName ?? ''}" does not name a cluster and user in the file`, undefined, 'write it again with `npm run kubeconfig -- --env NAME`');
    const base = resolve(file, '..');
    const load = (data: string | undefined, path: string | undefined) => (data ? Buffer.from(data, 'base64') : path ? readFileSync(resolve(base, path)) : undefined);
    return new KubeClient(
      cluster.server.replace(/\/+$/, ''),
      { ca: load(cluster['certificate-authority-data'], cluster['certificate-authority']), cert: load(user['client-certificate-data'], user['client-certificate']), key: load(user['client-key-data'], user['client-key']) },
      user.token,
      options.timeoutMs ?? 30_000,
    );
  }

  path(resource: Resource, namespace?: string, name?: string, sub?: string): string {
    const prefix = resource.apiVersion.includes('/') ? `/apis/${resource.apiVersion}` : `/api/${resource.apiVersion}`;
    const ns = resource.namespaced && namespace ? `/namespaces/${encodeURIComponent(namespace)}` : '';
    return `${prefix}${ns}/${resource.plural}${name ? `/${encodeURIComponent(name)}` : ''}${sub ? `/${sub}` : ''}`;
  }

  /** One request; resolves the parsed body, rejects with a KubeError naming the status and the API server's message. */
  request<T = unknown>(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<T> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const url = new URL(path, this.server);
    return new Promise<T>((resolvePromise, reject) => {
      const req = request(
        url,
        {
          method,
          ...this.tls,
          headers: {
            accept: 'application/json',
            ...(payload ? { 'content-type': contentType, 'content-length': Buffer.byteLength(payload) } : {}),
            ...(this.token ? { authorization: `Bearer ${this.token}` } : {}),
          },
          timeout: this.timeoutMs,
        },
        (response) => {
          let text = '';
          response.setEncoding('utf8');
          response.on('data', (chunk: string) => (text += chunk));
          response.on('end', () => {
            const status = response.statusCode ?? 0;
            if (status >= 200 && status < 300) return resolvePromise((text ? JSON.parse(text) : undefined) as T);
            let message = text.trim();
            try {
              message = (JSON.parse(text) as { message?: string }).message ?? message;
            } catch {
              // not JSON: keep the text
            }
            reject(new KubeError(`${method} ${path}: ${status} ${message}`, status));
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error(`no answer within ${this.timeoutMs / 1000} s`)));
      req.on('error', (error) => reject(new KubeError(`${method} ${this.server}${path}: ${error.message}`, undefined, 'is the tailnet up and the kubeconfig current? (`npm run kubeconfig -- --env NAME`)')));
      req.end(payload);
    });
  }

  get<T extends KubeObject = KubeObject>(resource: Resource, namespace: string | undefined, name: string): Promise<T> {
    return this.request<T>('GET', this.path(resource, namespace, name));
  }

  /** The object, or undefined on 404. */
  async find<T extends KubeObject = KubeObject>(resource: Resource, namespace: string | undefined, name: string): Promise<T | undefined> {
    try {
      return await this.get<T>(resource, namespace, name);
    } catch (error) {
      if (error instanceof KubeError && error.status === 404) return undefined;
      throw error;
    }
  }

  async list<T extends KubeObject = KubeObject>(resource: Resource, namespace?: string): Promise<T[]> {
    return (await this.request<{ items: T[] }>('GET', this.path(resource, namespace))).items;
  }

  create<T extends KubeObject = KubeObject>(resource: Resource, object: KubeObject): Promise<T> {
    return this.request<T>('POST', this.path(resource, object.metadata.namespace), object);
  }

  /** JSON merge patch (RFC 7386): `null` removes a field. `sub` e.g. "status" or "scale". */
  mergePatch<T extends KubeObject = KubeObject>(resource: Resource, namespace: string | undefined, name: string, patch: unknown, sub?: string): Promise<T> {
    return this.request<T>('PATCH', this.path(resource, namespace, name, sub), patch, 'application/merge-patch+json');
  }

  async delete(resource: Resource, namespace: string | undefined, name: string): Promise<void> {
    await this.request('DELETE', this.path(resource, namespace, name));
  }
}

/** Polls `probe` every `stepMs` until it returns a value; throws naming `what` after `timeoutMs`. */
export async function waitUntil<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>, stepMs = 1000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new BootstrapError(`timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${what}`, 'look at the object with kubectl describe; run the verb again when it is settled');
    await new Promise((resolveSleep) => setTimeout(resolveSleep, stepMs));
  }
}

/** The `--kubeconfig FILE` option every Kubernetes-side verb takes. */
export const KUBECONFIG_OPTION = { kubeconfig: { type: 'string' } } as const;

/** The client for a verb: --kubeconfig, else the file `npm run kubeconfig` writes. Built on first use, so --help needs no file. */
export function lazyKube(values: Record<string, unknown>, env: string): () => KubeClient {
  let client: KubeClient | undefined;
  return () => (client ??= KubeClient.fromKubeconfig(typeof values.kubeconfig === 'string' ? values.kubeconfig : defaultKubeconfig(env)));
}
