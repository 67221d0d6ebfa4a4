/** The repository's real environments, loaded and rendered in memory for tests. */
import { join } from 'node:path';
import { layerFacts, readRenderedResources, type LayerFacts, type Resource } from '../../generator/argocd/consistency.js';
import { renderContext } from '../../generator/components/component.js';
import { listEnvironments, loadEnvironment, type Environment } from '../../generator/config/load-environment.js';
import { kubernetesVersionOf } from '../../generator/kubernetes-version.js';
import { Hydrator } from '../../generator/charts/hydrate.js';
import { renderEnvironment, renderHydrated, type RenderedEnvironment } from '../../generator/render-environment.js';
import { REPO_ROOT } from './temp-repo.js';

export const ROOT = REPO_ROOT;
export const ENVIRONMENTS = listEnvironments(join(ROOT, 'environments'));

export function environment(name: string): Environment {
  return loadEnvironment(ROOT, name);
}

/** A deep copy, so a test can change a config without touching the others. */
export function copyOf(env: Environment): Environment {
  return structuredClone(env);
}

export function facts(env: Environment): LayerFacts {
  return layerFacts(renderContext(env, kubernetesVersionOf(env.config.k3s.version)));
}

const parsedTrees = new Map<string, Resource[]>();

/** The committed rendered/<env>/ tree, parsed (once per worker; each call returns its own copy). */
export function committed(name: string): Resource[] {
  if (!parsedTrees.has(name)) parsedTrees.set(name, readRenderedResources(join(ROOT, 'rendered', name)));
  return structuredClone(parsedTrees.get(name)!);
}

/** An in-memory render, as the consistency checks read it. */
export function resourcesOf(rendered: RenderedEnvironment): Resource[] {
  return rendered.resources.map(({ file, manifest }) => ({ file, manifest: structuredClone(manifest) as Resource['manifest'] }));
}

export function render(env: Environment): RenderedEnvironment {
  return renderEnvironment(env);
}

let hydrator: Hydrator | undefined;

/**
 * What rendered/<env>/ holds: the generator's objects and the hydrated charts
 * (the pinned helm, the per-user render cache; slow-lane tests only).
 */
export function renderWithCharts(env: Environment): Promise<RenderedEnvironment> {
  hydrator ??= new Hydrator({ root: ROOT });
  return renderHydrated(env, hydrator);
}
