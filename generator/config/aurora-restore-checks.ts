/**
 * Semantic checks of aurora.restores (written by `npm run ops --
 * restore-database`): every restore time a real instant, generations 2, 3, …
 * in order (each restore is made from the generation before it), and no
 * restore taken from a cluster identifier that an earlier entry already used.
 */
import type { AddIssue } from './cluster-checks.js';
import type { EnvConfig } from './schema.js';
import { parseRfc3339 } from './timestamps.js';

export function checkAuroraRestores(config: EnvConfig, add: AddIssue): void {
  config.aurora.restores.forEach((restore, index) => {
    const path = ['aurora', 'restores', index];
    if (parseRfc3339(restore.restoreToTime) === undefined) {
      add(
        [...path, 'restoreToTime'],
        `"${restore.restoreToTime}" is not a real point in time (no such day, hour, minute or offset)`,
        'an RFC 3339 timestamp such as 2026-12-01T09:30:00Z',
        'let `npm run ops -- restore-database --to <time>` write the entry, or correct the date',
      );
    }
    const expected = index + 2;
    if (restore.generation !== expected) {
      add(
        [...path, 'generation'],
        `restore ${index + 1} has generation ${restore.generation}, but each restore is made from the generation before it, so it must be ${expected}`,
        `generations 2, 3, … in the order of the list (this entry: ${expected})`,
        `set generation: ${expected}; a restore never skips or reuses a generation`,
      );
    }
    const earlier = config.aurora.restores.findIndex((other) => other.sourceClusterIdentifier === restore.sourceClusterIdentifier);
    if (earlier !== index) {
      add(
        [...path, 'sourceClusterIdentifier'],
        `restore ${index + 1} restores from ${restore.sourceClusterIdentifier}, which restore ${earlier + 1} already restored from`,
        'each restore made from the cluster of the generation before it',
        'remove the duplicate entry, or name the cluster the previous generation created',
      );
    }
  });
}
