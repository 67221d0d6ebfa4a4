/**
 * Reads rendered/<env>/ and turns it into what a process needs: a container's
 * command and environment (envFrom ConfigMaps and Secrets, then env, as the
 * kubelet does), the Secrets evaluated from the ExternalSecrets.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { evaluateTemplate } from './go-template.js';

export type Manifest = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; annotations?: Record<string, string> }; spec?: any; data?: Record<string, string> };

export interface Container {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  workingDir?: string;
  env?: { name: string; value?: string }[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  startupProbe?: Probe;
  volumeMounts?: { mountPath: string; name: string; readOnly?: boolean }[];
}

export interface Probe {
  httpGet?: { path: string; port: string | number };
  tcpSocket?: { port: string | number };
  exec?: { command: string[] };
}

export class RenderedTree {
  readonly manifests: Manifest[] = [];
  constructor(readonly root: string, readonly env: string) {
    const dir = join(root, 'rendered', env);
    if (!existsSync(dir)) throw new Error(`rendered/${env}/ does not exist: run \`npm run render\` or pick an environment under environments/`);
    for (const folder of readdirSync(dir, { withFileTypes: true })) {
      if (!folder.isDirectory()) continue;
      for (const file of readdirSync(join(dir, folder.name))) {
        if (!file.endsWith('.yaml')) continue;
        for (const doc of parseAllDocuments(readFileSync(join(dir, folder.name, file), 'utf8'))) {
          const manifest = doc.toJS() as Manifest;
          if (manifest?.kind) this.manifests.push(manifest);
        }
      }
    }
  }

  find(kind: string, namespace: string, name: string | RegExp): Manifest {
    const found = this.manifests.filter((m) => m.kind === kind && m.metadata.namespace === namespace && (typeof name === 'string' ? m.metadata.name === name : name.test(m.metadata.name)));
    if (found.length !== 1) throw new Error(`rendered/${this.env}: expected one ${kind} ${namespace}/${name}, found ${found.length}`);
    return found[0]!;
  }

  container(kind: 'Deployment' | 'Job' | 'StatefulSet', namespace: string, name: string | RegExp, container?: string): { manifest: Manifest; container: Container } {
    const manifest = this.find(kind, namespace, name);
    const containers = manifest.spec.template.spec.containers as Container[];
    const chosen = container ? containers.find((c) => c.name === container) : containers[0];
    if (!chosen) throw new Error(`rendered/${this.env}: ${kind} ${namespace}/${manifest.metadata.name} has no container ${container}`);
    return { manifest, container: chosen };
  }

  /** The bootstrap CloudFormation template, parsed (CloudFormation short forms are not used in it). */
  template(): any {
    return parse(readFileSync(join(this.root, 'rendered', this.env, 'bootstrap', 'template.yaml'), 'utf8'), { customTags: [] });
  }
}

/** A remote value fetcher: (key, property?) → string, as the ClusterSecretStore would answer. */
export type RemoteRead = (key: string, property?: string) => Promise<string>;

/** The static data of a generator an ExternalSecret's `dataFrom` names (ESO's Fake generator: its `spec.data`). */
export type GeneratorRead = (kind: string, namespace: string, name: string) => Record<string, string>;

const NO_GENERATORS: GeneratorRead = (kind, namespace, name) => {
  throw new Error(`generator ${kind} ${namespace}/${name}: pass a GeneratorRead to evaluate an ExternalSecret whose dataFrom names one`);
};

/** The Secret an ExternalSecret produces, its `target.template.data` evaluated on the fetched `spec.data` (and `dataFrom` generators). */
export async function evaluateExternalSecret(es: Manifest, read: RemoteRead, generators: GeneratorRead = NO_GENERATORS): Promise<Record<string, string>> {
  const data: Record<string, string> = {};
  for (const from of (es.spec.dataFrom ?? []) as { sourceRef?: { generatorRef?: { kind: string; name: string } } }[]) {
    const generator = from.sourceRef?.generatorRef;
    if (!generator) throw new Error(`ExternalSecret ${es.metadata.namespace}/${es.metadata.name}: a dataFrom without a generatorRef is not evaluated by the system test`);
    Object.assign(data, generators(generator.kind, es.metadata.namespace!, generator.name));
  }
  for (const entry of (es.spec.data ?? []) as { secretKey: string; remoteRef: { key: string; property?: string } }[]) {
    data[entry.secretKey] = await read(entry.remoteRef.key, entry.remoteRef.property);
  }
  const template = es.spec.target?.template;
  if (!template) return data;
  if (template.engineVersion !== 'v2') throw new Error(`ExternalSecret ${es.metadata.namespace}/${es.metadata.name}: engineVersion ${template.engineVersion}, the system test evaluates v2 only`);
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(template.data as Record<string, string>)) {
    out[key] = evaluateTemplate(value, data, `ExternalSecret ${es.metadata.namespace}/${es.metadata.name} target.template.data.${key}`);
  }
  return out;
}

/** The environment the kubelet gives a container: envFrom in order, then env (which wins). */
export function containerEnv(tree: RenderedTree, namespace: string, container: Container, secrets: Map<string, Record<string, string>>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const from of container.envFrom ?? []) {
    if (from.configMapRef) Object.assign(env, tree.find('ConfigMap', namespace, from.configMapRef.name).data ?? {});
    if (from.secretRef) {
      const secret = secrets.get(`${namespace}/${from.secretRef.name}`);
      if (!secret) throw new Error(`Secret ${namespace}/${from.secretRef.name} has no ExternalSecret that creates it in rendered/${tree.env}`);
      Object.assign(env, secret);
    }
  }
  for (const entry of container.env ?? []) {
    if (entry.value === undefined) throw new Error(`${container.name}: env ${entry.name} uses valueFrom, not evaluated by the system test`);
    env[entry.name] = entry.value;
  }
  return env;
}

/**
 * The files a container reads from its read-only ConfigMap and Secret volumes,
 * as the kubelet mounts them: the ConfigMap mounted where the command's first
 * argument lives (one file of it), and the one Secret volume (every key, its
 * ExternalSecret evaluated).
 */
export function mountedFiles(
  tree: RenderedTree,
  namespace: string,
  workload: { manifest: Manifest; container: Container },
  secrets: Map<string, Record<string, string>>,
): { config: string; configPath: string; auth: Record<string, string>; authDir: string } {
  const volumes = (workload.manifest.spec.template.spec.volumes ?? []) as { name: string; configMap?: { name: string }; secret?: { secretName: string } }[];
  const mountOf = (volume: { name: string }) => (workload.container.volumeMounts ?? []).find((mount) => mount.name === volume.name && mount.readOnly === true);
  const configPath = workload.container.command?.[1] ?? '';
  const configVolume = volumes.find((volume) => volume.configMap && configPath.startsWith(`${mountOf(volume)?.mountPath ?? '\0'}/`));
  if (!configVolume) throw new Error(`${workload.container.name}: ${configPath} is not in a read-only ConfigMap volume`);
  const key = configPath.slice(mountOf(configVolume)!.mountPath.length + 1);
  const config = tree.find('ConfigMap', namespace, configVolume.configMap!.name).data?.[key];
  if (config === undefined) throw new Error(`ConfigMap ${namespace}/${configVolume.configMap!.name} has no key ${key}`);
  const secretVolumes = volumes.filter((volume) => volume.secret && mountOf(volume));
  if (secretVolumes.length !== 1) throw new Error(`${workload.container.name}: expected one read-only Secret volume, found ${secretVolumes.length}`);
  const auth = secrets.get(`${namespace}/${secretVolumes[0]!.secret!.secretName}`);
  if (!auth) throw new Error(`Secret ${namespace}/${secretVolumes[0]!.secret!.secretName} has no ExternalSecret that creates it in rendered/${tree.env}`);
  return { config, configPath, auth, authDir: mountOf(secretVolumes[0]!)!.mountPath };
}
