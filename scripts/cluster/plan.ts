/**
 * The order in which the cluster test applies rendered/<env>/, the way Argo CD
 * would: every CustomResourceDefinition first (then wait until Established),
 * then every Namespace, then each Application's folder in sync-wave order,
 * each resource with its Application's apply mode (server-side with Argo CD's
 * field manager where the Application says `ServerSideApply=true`). Inside an
 * Application: the sync phase (PreSync hooks, the resources, PostSync hooks),
 * then the resource's own sync wave, then Argo CD's kind order. Hooks Argo CD
 * does not run on a sync (deletion hooks, SyncFail, Skip, Helm hooks it does
 * not map) are checked with a server-side dry run only.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { SYNC_WAVE_ANNOTATION } from '../../generator/argocd/application.js';
import { parseRendered, resourceName, type Manifest, type ManifestDoc, type RenderedInput } from '../../generator/validate/manifests.js';

export type ApplyMode = 'server-side' | 'client-side';

export type SyncPhase = 'PreSync' | 'Sync' | 'PostSync';

export interface Step {
  /** Repository-relative (or absolute, for --crds) file applied as a whole. */
  file: string;
  phase: SyncPhase;
  resources: string[];
  objects: Manifest[];
  app: string;
  mode: ApplyMode;
  /** Set when the objects can only be checked with a server-side dry run, and why. */
  dryRunOnly?: string;
}

export interface AppPlan {
  name: string;
  wave: number;
  mode: ApplyMode;
  folders: string[];
  /** Helm chart sources (`chart@version`), whose output is not in rendered/ and so not applied. */
  charts: string[];
  steps: Step[];
}

export interface Plan {
  env: string;
  crds: Step[];
  namespaces: Step[];
  apps: AppPlan[];
  /** Manifests no Application's folder holds: Argo CD would never apply them. */
  unowned: ManifestDoc[];
  problems: string[];
}

/**
 * gitops-engine's kind order within one sync wave (kinds not listed go last,
 * by name). CRDs and Namespaces are applied before every Application here.
 */
const KIND_ORDER = [
  'Namespace', 'NetworkPolicy', 'ResourceQuota', 'LimitRange', 'PodSecurityPolicy', 'PodDisruptionBudget', 'ServiceAccount', 'Secret', 'SecretList',
  'ConfigMap', 'StorageClass', 'PersistentVolume', 'PersistentVolumeClaim', 'CustomResourceDefinition', 'ClusterRole', 'ClusterRoleList',
  'ClusterRoleBinding', 'ClusterRoleBindingList', 'Role', 'RoleList', 'RoleBinding', 'RoleBindingList', 'Service', 'DaemonSet', 'Pod',
  'ReplicationController', 'ReplicaSet', 'Deployment', 'HorizontalPodAutoscaler', 'StatefulSet', 'Job', 'CronJob', 'IngressClass', 'Ingress', 'APIService',
];

/**
 * Admission webhooks call a Service backed by a Pod, and no Pod runs here (no
 * kubelet): registering them would make every later request they match fail.
 * They are checked with a server-side dry run instead.
 */
const DRY_RUN_ONLY_KINDS: Record<string, string> = {
  ValidatingWebhookConfiguration: 'its webhook Service has no running Pod here (no kubelet), so it is validated with --dry-run=server, not registered',
  MutatingWebhookConfiguration: 'its webhook Service has no running Pod here (no kubelet), so it is validated with --dry-run=server, not registered',
};

const kindRank = (kind: string) => {
  const index = KIND_ORDER.indexOf(kind);
  return index === -1 ? KIND_ORDER.length : index;
};

/** The sync wave; a Helm hook's weight stands in for it, as in Argo CD. */
function waveOf(object: Manifest): number {
  const annotations = object.metadata?.annotations ?? {};
  const wave = Number(annotations[SYNC_WAVE_ANNOTATION] ?? annotations[HELM_HOOK_WEIGHT] ?? 0);
  return Number.isFinite(wave) ? wave : 0;
}

const ARGOCD_HOOK = 'argocd.argoproj.io/hook';
const HELM_HOOK = 'helm.sh/hook';
const HELM_HOOK_WEIGHT = 'helm.sh/hook-weight';
const PHASE_ORDER: Record<SyncPhase, number> = { PreSync: 0, Sync: 1, PostSync: 2 };

/** How Argo CD maps Helm hooks to its own on a sync; the others never run on a sync. */
const HELM_HOOK_PHASES: Record<string, SyncPhase> = { 'pre-install': 'PreSync', 'pre-upgrade': 'PreSync', 'crd-install': 'Sync', 'post-install': 'PostSync', 'post-upgrade': 'PostSync' };

/**
 * The phase Argo CD applies a resource in during a sync, or why it does not
 * apply it then (`argocd.argoproj.io/hook` wins over `helm.sh/hook`).
 */
export function syncPhase(object: Manifest): { phase: SyncPhase } | { notOnSync: string } {
  const annotations = object.metadata?.annotations ?? {};
  const list = (value: string) => value.split(',').map((item) => item.trim()).filter(Boolean);
  const argocd = annotations[ARGOCD_HOOK];
  if (argocd !== undefined) {
    const phase = (['PreSync', 'Sync', 'PostSync'] as const).find((candidate) => list(argocd).includes(candidate));
    return phase ? { phase } : { notOnSync: `Argo CD hook "${argocd}" does not run on a sync (SyncFail only when one fails, PreDelete/PostDelete only when the Application is deleted, Skip never), so it is checked with --dry-run=server` };
  }
  const helm = annotations[HELM_HOOK];
  if (helm !== undefined) {
    const phases = list(helm).flatMap((hook) => (HELM_HOOK_PHASES[hook] ? [HELM_HOOK_PHASES[hook]] : []));
    if (phases.length === 0) return { notOnSync: `Helm hook "${helm}" is not run by Argo CD on a sync (deletion, rollback and test hooks are not synced), so it is checked with --dry-run=server` };
    return { phase: phases.sort((a, b) => PHASE_ORDER[a] - PHASE_ORDER[b])[0]! };
  }
  return { phase: 'Sync' };
}

const kindOf = (object: Manifest) => (typeof object.kind === 'string' ? object.kind : '');

interface ApplicationSpec {
  source?: { path?: string; chart?: string; targetRevision?: string; directory?: { recurse?: boolean } };
  sources?: ApplicationSpec['source'][];
  syncPolicy?: { syncOptions?: string[] };
}

function stepOf(docs: ManifestDoc[], app: string, mode: ApplyMode): Step {
  const kinds = docs.map((doc) => kindOf(doc.object));
  const sync = syncPhase(docs[0]!.object);
  const dryRun = 'notOnSync' in sync ? sync.notOnSync : kinds.map((kind) => DRY_RUN_ONLY_KINDS[kind]).find(Boolean);
  return {
    file: docs[0]!.file,
    phase: 'phase' in sync ? sync.phase : 'Sync',
    resources: docs.map((doc) => doc.resource),
    objects: docs.map((doc) => doc.object),
    app,
    mode,
    ...(dryRun ? { dryRunOnly: dryRun } : {}),
  };
}

/** Groups documents by file (a file is applied whole), in the files' first-seen order. */
function byFile(docs: ManifestDoc[]): ManifestDoc[][] {
  const files = new Map<string, ManifestDoc[]>();
  for (const doc of docs) files.set(doc.file, [...(files.get(doc.file) ?? []), doc]);
  return [...files.values()];
}

function sortInApp(a: Step, b: Step): number {
  const [x, y] = [a.objects[0]!, b.objects[0]!];
  return PHASE_ORDER[a.phase] - PHASE_ORDER[b.phase] || waveOf(x) - waveOf(y) || kindRank(kindOf(x)) - kindRank(kindOf(y)) || a.resources[0]!.localeCompare(b.resources[0]!);
}

/**
 * Consecutive steps Argo CD orders nothing between (same phase, wave and
 * kind): the test applies each batch concurrently, the batches in order.
 */
export function batches(steps: Step[]): Step[][] {
  const key = (step: Step) => `${step.phase} ${waveOf(step.objects[0]!)} ${kindRank(kindOf(step.objects[0]!))} ${kindOf(step.objects[0]!)}`;
  const result: Step[][] = [];
  for (const step of steps) {
    const last = result.at(-1);
    if (last && key(last[0]!) === key(step)) last.push(step);
    else result.push([step]);
  }
  return result;
}

/** CRDs from extra folders (--crds): every CustomResourceDefinition in their YAML files, one step per file. */
export function extraCrdSteps(dirs: string[]): Step[] {
  const steps: Step[] = [];
  const walk = (dir: string): string[] =>
    readdirSync(dir).sort().flatMap((name) => {
      const path = join(dir, name);
      return statSync(path).isDirectory() ? walk(path) : /\.ya?ml$/.test(name) ? [path] : [];
    });
  for (const file of dirs.flatMap(walk)) {
    const objects = parseAllDocuments(readFileSync(file, 'utf8'))
      .map((document) => document.toJS() as Manifest | null)
      .filter((object): object is Manifest => object !== null && typeof object === 'object' && object.kind === 'CustomResourceDefinition');
    if (objects.length > 0) steps.push({ file, phase: 'Sync', resources: objects.map(resourceName), objects, app: '(--crds)', mode: 'server-side' });
  }
  return steps;
}

export function planEnvironment(input: RenderedInput, extraCrds: Step[] = []): Plan {
  const env = input.env;
  const { docs, problems: parseProblems } = parseRendered(input);
  const problems = parseProblems.map((problem) => `${problem.file}${problem.line ? `:${problem.line}` : ''}: ${problem.message}`);
  const applications = docs.filter((doc) => kindOf(doc.object) === 'Application' && doc.file.startsWith(`rendered/${env}/apps/`));
  const owner = new Map<ManifestDoc, AppPlan>();
  const apps: AppPlan[] = applications.map((doc) => {
    const spec = (doc.object.spec ?? {}) as ApplicationSpec;
    const sources = spec.sources ?? (spec.source ? [spec.source] : []);
    const mode: ApplyMode = (spec.syncPolicy?.syncOptions ?? []).includes('ServerSideApply=true') ? 'server-side' : 'client-side';
    const app: AppPlan = {
      name: doc.object.metadata?.name ?? '(no name)',
      wave: waveOf(doc.object),
      mode,
      folders: sources.flatMap((source) => (source?.path ? [source.path] : [])),
      charts: sources.flatMap((source) => (source?.chart ? [`${source.chart}@${source.targetRevision ?? '?'}`] : [])),
      steps: [],
    };
    for (const source of sources) {
      if (!source?.path) continue;
      if (!source.path.startsWith(`rendered/${env}/`)) problems.push(`${doc.file}:${doc.lineOf(['spec'])}: spec.source(s).path: "${source.path}" is outside rendered/${env}/`);
      for (const candidate of docs) {
        const folder = dirname(candidate.file);
        const inside = source.directory?.recurse ? `${folder}/`.startsWith(`${source.path}/`) : folder === source.path;
        if (inside) owner.set(candidate, app);
      }
    }
    return app;
  });
  apps.sort((a, b) => a.wave - b.wave || a.name.localeCompare(b.name));
  const unowned = docs.filter((doc) => !owner.has(doc));
  const early = (kind: string) => byFile(docs.filter((doc) => kindOf(doc.object) === kind && owner.has(doc))).map((group) => stepOf(group, owner.get(group[0]!)!.name, owner.get(group[0]!)!.mode));
  const crds = [...early('CustomResourceDefinition'), ...extraCrds];
  const namespaces = early('Namespace');
  for (const app of apps) {
    const own = docs.filter((doc) => owner.get(doc) === app && !['CustomResourceDefinition', 'Namespace'].includes(kindOf(doc.object)));
    app.steps = byFile(own).map((group) => stepOf(group, app.name, app.mode)).sort(sortInApp);
  }
  return { env, crds, namespaces, apps, unowned, problems };
}

/** A file as the report shows it: repository-relative when it is in the repository. */
export function displayFile(file: string, root: string): string {
  if (!file.startsWith('/')) return file;
  const inside = relative(root, file);
  return inside.startsWith('..') ? file : inside;
}
