/**
 * Semantic checks of `backups.replication` (docs/backups-and-replication.md):
 * the replicas must live in another region than the environment (a copy in
 * the same region survives nothing the source would not), and production
 * must replicate every bucket that holds backups.
 */
import type { AddIssue } from './cluster-checks.js';
import { REPLICATED_BUCKETS, type EnvConfig } from './schema.js';

export function checkReplication(config: EnvConfig, add: AddIssue): void {
  const replication = config.backups.replication;
  if (replication && replication.region === config.aws.region) {
    add(
      ['backups', 'replication', 'region'],
      `the replica region ${replication.region} is the environment's own region (aws.region): the copies would not survive the loss of that region`,
      `an AWS region other than ${config.aws.region}, e.g. eu-central-1`,
      'set backups.replication.region to another region (one your data may be kept in)',
    );
  }
  if (config.tier !== 'production') return;
  if (!replication) {
    add(
      ['backups'],
      "production has no copy of its etcd snapshots, Longhorn backups and attachments outside its region (backups.replication is not set)",
      'backups.replication with a region other than aws.region in a production environment',
      'add backups: { replication: { region: <another region> } } (it replicates all three backup buckets; see docs/backups-and-replication.md)',
    );
    return;
  }
  const missing = REPLICATED_BUCKETS.filter((bucket) => !replication.buckets.includes(bucket));
  if (missing.length > 0) {
    add(
      ['backups', 'replication', 'buckets'],
      `production does not replicate ${missing.join(', ')}, which ${missing.length === 1 ? 'holds' : 'hold'} backups`,
      `every bucket that holds backups in a production environment: ${REPLICATED_BUCKETS.join(', ')}`,
      `add ${missing.join(', ')} to backups.replication.buckets (or remove the line: the default is all three)`,
    );
  }
}
