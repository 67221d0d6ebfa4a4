import { MANAGED_BY, PART_OF } from '../platform-names.js';

export type Labels = Record<string, string>;

/** Selector labels: stable for the life of a workload (never include the version). */
export function selectorLabels(name: string, component: string): Labels {
  return { 'app.kubernetes.io/name': name, 'app.kubernetes.io/component': component };
}

/** Labels every object carries. */
export function standardLabels(name: string, component: string, version?: string): Labels {
  return {
    ...selectorLabels(name, component),
    'app.kubernetes.io/part-of': PART_OF,
    'app.kubernetes.io/managed-by': MANAGED_BY,
    ...(version ? { 'app.kubernetes.io/version': labelValue(version) } : {}),
  };
}

/** A label value is at most 63 characters of [A-Za-z0-9_.-]. */
export function labelValue(value: string): string {
  return value.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 63).replace(/[^A-Za-z0-9]+$/, '');
}
