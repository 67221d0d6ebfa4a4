/** Argo CD Application hygiene and valid sync options on every object. */
import { asArray, get, isRecord, violation, type Path, type PolicyRule, type Violation } from './rule.js';
import type { ManifestDoc } from '../manifests.js';

const FINALIZER = /^resources-finalizer\.argocd\.argoproj\.io(\/(background|foreground))?$/;
const FULL_GIT_REF = /^(refs\/(heads|tags)\/[^\s]+|[0-9a-f]{40})$/;

/** Argo CD sync options and the values each accepts (Argo CD 3.x user guide, "Sync Options"). */
export const SYNC_OPTION_VALUES: Record<string, readonly string[]> = {
  Prune: ['false', 'confirm'],
  Delete: ['false', 'confirm'],
  Validate: ['true', 'false'],
  SkipDryRunOnMissingResource: ['true'],
  ApplyOutOfSyncOnly: ['true', 'false'],
  PrunePropagationPolicy: ['foreground', 'background', 'orphan'],
  PruneLast: ['true'],
  Replace: ['true'],
  Force: ['true'],
  ServerSideApply: ['true', 'false'],
  ClientSideApplyMigration: ['true', 'false'],
  FailOnSharedResource: ['true'],
  RespectIgnoreDifferences: ['true'],
  CreateNamespace: ['true'],
};

function invalidSyncOption(option: string): string | undefined {
  const [name, value, ...rest] = option.split('=');
  const allowed = SYNC_OPTION_VALUES[name ?? ''];
  if (!allowed) return `unknown sync option "${option}"; known: ${Object.keys(SYNC_OPTION_VALUES).join(', ')}`;
  if (rest.length > 0 || value === undefined || !allowed.includes(value)) return `sync option "${option}" must be ${name}=${allowed.join(` or ${name}=`)}`;
  return undefined;
}

function sources(app: ManifestDoc): { path: Path; source: Record<string, unknown> }[] {
  const single = get(app.object, ['spec', 'source']);
  const list = asArray(get(app.object, ['spec', 'sources'])).map((source, index) => ({ path: ['spec', 'sources', index] as Path, source }));
  return [...(isRecord(single) ? [{ path: ['spec', 'source'] as Path, source: single }] : []), ...list.filter((entry): entry is { path: Path; source: Record<string, unknown> } => isRecord(entry.source))];
}

export const ARGOCD_RULES: PolicyRule[] = [
  {
    id: 'argocd-application-finalizer',
    reason: "Without the resources finalizer, deleting an Application orphans its resources instead of removing them in order.",
    mirrors: ['Argo CD docs: App deletion / resources-finalizer (project rule)'],
    check: (context) =>
      context
        .ofKind('Application')
        .filter((app) => !asArray(get(app.object, ['metadata', 'finalizers'])).some((finalizer) => FINALIZER.test(String(finalizer))))
        .map((app) => violation(app, ['metadata', 'finalizers'], 'needs the finalizer resources-finalizer.argocd.argoproj.io')),
  },
  {
    id: 'argocd-project-not-default',
    reason: "The `default` AppProject allows any repository, cluster and namespace.",
    mirrors: ['Argo CD docs: Projects (project rule)'],
    check: (context) => [
      ...context
        .ofKind('Application')
        .filter((app) => (get(app.object, ['spec', 'project']) ?? 'default') === 'default')
        .map((app) => violation(app, ['spec', 'project'], 'uses the default AppProject; use the platform or apps project')),
      ...context
        .ofKind('AppProject')
        .filter((project) => project.object.metadata?.name === 'default')
        .map((project) => violation(project, ['metadata', 'name'], 'redefines the default AppProject; give projects their own names')),
    ],
  },
  {
    id: 'argocd-pinned-source',
    reason: 'A moving git revision changes the cluster without a pull request, and a Helm source renders what no gate has seen.',
    mirrors: ['Argo CD docs: Tracking and Deployment Strategies; the rendered-manifests pattern (project rule)'],
    check: (context) =>
      context.ofKind('Application').flatMap((app) =>
        sources(app).flatMap(({ path, source }): Violation[] => {
          if (source.chart !== undefined) {
            return [violation(app, [...path, 'chart'], `Helm source ${String(source.chart)}: Applications sync plain YAML; vendor the chart (npm run charts:pull) and let the render hydrate it into rendered/ (generator/charts/)`)];
          }
          const revision = source.targetRevision;
          return typeof revision === 'string' && FULL_GIT_REF.test(revision)
            ? []
            : [violation(app, [...path, 'targetRevision'], `git source must target a full ref (refs/heads/…, refs/tags/…) or a commit SHA (got ${revision === undefined ? 'none' : JSON.stringify(revision)})`)];
        }),
      ),
  },
  {
    id: 'argocd-sync-options',
    reason: 'Argo CD ignores a misspelt sync option silently, so a data-safety or server-side-apply setting would not apply.',
    mirrors: ['Argo CD docs: Sync Options (project rule)'],
    check: (context) => {
      const found: Violation[] = [];
      for (const doc of context.docs) {
        const annotation = doc.object.metadata?.annotations?.['argocd.argoproj.io/sync-options'];
        if (typeof annotation === 'string') {
          for (const option of annotation.split(',').map((part) => part.trim())) {
            const problem = invalidSyncOption(option);
            if (problem) found.push(violation(doc, ['metadata', 'annotations', 'argocd.argoproj.io/sync-options'], problem));
          }
        }
        if (doc.object.kind === 'Application') {
          asArray(get(doc.object, ['spec', 'syncPolicy', 'syncOptions'])).forEach((option, index) => {
            const problem = invalidSyncOption(String(option));
            if (problem) found.push(violation(doc, ['spec', 'syncPolicy', 'syncOptions', index], problem));
          });
        }
      }
      return found;
    },
  },
];
