/** The repository's real environments, loaded and rendered in memory for tests. */
import { join } from 'node:path';
import { layerFacts, readRenderedResources, type LayerFacts, type Resource } from '../../generator/argocd/consistency.js';
import { renderContext } from '../../generator/components/component.js';
import { listEnvironments, loadEnvironment, type Environment } from '../../generator/config/load-environment.js';
import { kubernetesVersionOf } from '../../generator/kubernetes-version.js';
import { renderEnvironment, type RenderedEnvironment } from '../../generator/render-environment.js';
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

/** The committed rendered/<env>/ tree, parsed. */
export function committed(name: string): Resource[] {
  return readRenderedResources(join(ROOT, 'rendered', name));
}

/** An in-memory render, as the consistency checks read it. */
export function resourcesOf(rendered: RenderedEnvironment): Resource[] {
  return rendered.resources.map(({ file, manifest }) => ({ file, manifest: structuredClone(manifest) as Resource['manifest'] }));
}

export function render(env: Environment): RenderedEnvironment {
  return renderEnvironment(env);
}
