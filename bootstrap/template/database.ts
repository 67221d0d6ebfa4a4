/**
 * Aurora Serverless v2 PostgreSQL: private, encrypted with the stack's key,
 * TLS forced, master password managed by RDS (a secret RDS owns), backups
 * retained, deletion protection always on in production, and a final
 * snapshot whenever the cluster is deleted or replaced. A point-in-time
 * restore (aurora.restores) adds the restored cluster as the next generation
 * next to its source, which stays until the restore entry stops keeping it.
 */
import type { EnvConfig } from '../../generator/config/schema.js';
import { DATABASES } from '../../generator/platform-names.js';
import { checkovSkips, getAtt, ref, selectAz, SNAPSHOT, tags, type CfnObject, type Resources } from './cfn.js';
import { POSTGRES_PORT } from './network.js';

export const AURORA_ENGINE = 'aurora-postgresql';
export const AURORA_MASTER_USERNAME = 'hubadmin';
export const PRODUCTION_MIN_BACKUP_DAYS = 7;

export const isProduction = (config: EnvConfig): boolean => config.tier === 'production';

/** Production always protects the cluster, whatever the file says. */
export function auroraDeletionProtection(config: EnvConfig): boolean {
  return isProduction(config) || config.aurora.deletionProtection;
}

/** aurora-postgresql17 for engine version 17.5. */
export function parameterGroupFamily(engineVersion: string): string {
  return `${AURORA_ENGINE}${engineVersion.split('.')[0]}`;
}

/** The logical ids of one Aurora generation: 1 is the original cluster, a restore n makes AuroraClusterG<n>. */
export function auroraLogicalIds(generation: number): { cluster: string; writer: string; reader: (index: number) => string; suffix: string } {
  const suffix = generation === 1 ? '' : `G${generation}`;
  return { cluster: `AuroraCluster${suffix}`, writer: `AuroraWriter${suffix}`, reader: (index) => `AuroraReader${index}${suffix}`, suffix };
}

type AuroraRestore = EnvConfig['aurora']['restores'][number];

/** The generation the stack outputs and the apps use: the last restore's, or 1. */
export function activeAuroraGeneration(config: EnvConfig): number {
  return config.aurora.restores.at(-1)?.generation ?? 1;
}

/** Logical id of the Aurora cluster in use (outputs, the node's secret access). */
export function activeAuroraCluster(config: EnvConfig): string {
  return auroraLogicalIds(activeAuroraGeneration(config)).cluster;
}

/** The generations the stack holds, oldest first: the active one, and each source a restore keeps. */
export function auroraGenerationsInStack(config: EnvConfig): { generation: number; restore?: AuroraRestore }[] {
  const restores = config.aurora.restores;
  const generations: { generation: number; restore?: AuroraRestore }[] = [];
  for (let generation = 1; generation <= activeAuroraGeneration(config); generation++) {
    const restore = restores.find((entry) => entry.generation === generation);
    const next = restores.find((entry) => entry.generation === generation + 1);
    if (!next || next.keepSource) generations.push({ generation, ...(restore ? { restore } : {}) });
  }
  return generations;
}

/**
 * What a restored cluster differs in: it is created by RDS from the source's
 * backups (full copy, so the source can later be deleted), and takes its
 * database, master user name, data and encryption from there (KmsKeyId
 * names the key it is encrypted with; cfn-lint W3689 flags MasterUsername or
 * StorageEncrypted on a restore as ignored); everything else (network,
 * parameters, managed password, protections) is the original's.
 */
export const AURORA_RESTORE_TYPE = 'full-copy';

function clusterProperties(config: EnvConfig, stack: string, restore: AuroraRestore | undefined): CfnObject {
  const origin = restore
    ? { SourceDBClusterIdentifier: restore.sourceClusterIdentifier, RestoreToTime: restore.restoreToTime, RestoreType: AURORA_RESTORE_TYPE }
    : { DatabaseName: DATABASES.openWebUI, MasterUsername: AURORA_MASTER_USERNAME, StorageEncrypted: true };
  return {
    Engine: AURORA_ENGINE,
    EngineVersion: config.aurora.engineVersion,
    ...origin,
    Port: POSTGRES_PORT,
    ManageMasterUserPassword: true,
    MasterUserSecret: { KmsKeyId: ref('KmsKey') },
    KmsKeyId: getAtt('KmsKey', 'Arn'),
    ServerlessV2ScalingConfiguration: { MinCapacity: ref('AuroraMinCapacity'), MaxCapacity: ref('AuroraMaxCapacity') },
    BackupRetentionPeriod: ref('AuroraBackupRetentionDays'),
    PreferredBackupWindow: '22:00-23:00',
    PreferredMaintenanceWindow: 'fri:23:30-sat:00:30',
    DeletionProtection: auroraDeletionProtection(config),
    CopyTagsToSnapshot: true,
    EnableIAMDatabaseAuthentication: true,
    EnableCloudwatchLogsExports: ['postgresql'],
    DBSubnetGroupName: ref('AuroraSubnetGroup'),
    DBClusterParameterGroupName: ref('AuroraClusterParameterGroup'),
    VpcSecurityGroupIds: [getAtt('AuroraSecurityGroup', 'GroupId')],
    Tags: tags(stack, restore ? `aurora-g${restore.generation}` : 'aurora'),
  };
}

export function databaseResources(config: EnvConfig, stack: string): Resources {
  const clusters: Resources = {};
  for (const { generation, restore } of auroraGenerationsInStack(config)) {
    const ids = auroraLogicalIds(generation);
    clusters[ids.cluster] = { Type: 'AWS::RDS::DBCluster', ...SNAPSHOT, Properties: clusterProperties(config, stack, restore) };
    Object.assign(clusters, auroraInstances(config, stack, generation));
  }
  return {
    AuroraSubnetGroup: {
      Type: 'AWS::RDS::DBSubnetGroup',
      Properties: {
        DBSubnetGroupDescription: `${stack}: the two private subnets`,
        SubnetIds: [ref('PrivateSubnetA'), ref('PrivateSubnetB')],
        Tags: tags(stack, 'aurora'),
      },
    },
    AuroraClusterParameterGroup: {
      Type: 'AWS::RDS::DBClusterParameterGroup',
      Properties: {
        Description: `${stack}: TLS only`,
        Family: parameterGroupFamily(config.aurora.engineVersion),
        Parameters: { 'rds.force_ssl': '1' },
        Tags: tags(stack, 'aurora'),
      },
    },
    ...clusters,
  };
}

/**
 * The writer and, with aurora.readers, reader instances. With readers the
 * writer sits in the first zone and reader n in the zone after it, so a
 * failover (to the reader with promotion tier 0) moves to another zone.
 */
function auroraInstances(config: EnvConfig, stack: string, generation: number): Resources {
  const readers = config.aurora.readers;
  const ids = auroraLogicalIds(generation);
  const tagSuffix = generation === 1 ? '' : `-g${generation}`;
  const instance = (name: string, zone: number | undefined, promotionTier: number | undefined) => ({
    Type: 'AWS::RDS::DBInstance',
    // The data lives in the cluster (snapshotted above); an instance of a cluster cannot be snapshotted on its own.
    DeletionPolicy: 'Delete' as const,
    UpdateReplacePolicy: 'Delete' as const,
    Properties: {
      Engine: AURORA_ENGINE,
      DBClusterIdentifier: ref(ids.cluster),
      DBInstanceClass: 'db.serverless',
      PubliclyAccessible: false,
      AutoMinorVersionUpgrade: true,
      EnablePerformanceInsights: true,
      PerformanceInsightsKMSKeyId: getAtt('KmsKey', 'Arn'),
      PerformanceInsightsRetentionPeriod: 7,
      ...(zone === undefined ? {} : { AvailabilityZone: selectAz(zone) }),
      ...(promotionTier === undefined ? {} : { PromotionTier: promotionTier }),
      Tags: tags(stack, `${name}${tagSuffix}`),
    },
    Metadata: checkovSkips([
      {
        id: 'CKV_AWS_157',
        comment:
          readers > 0
            ? 'Multi-AZ does not apply to an Aurora instance: the cluster keeps six copies across three zones and the reader instances in other zones are the failover targets'
            : 'Aurora keeps six copies of the data across three zones; a second serverless reader would double the cost of a single-node platform',
      },
      { id: 'CKV_AWS_118', comment: 'Performance Insights and CloudWatch log exports cover monitoring; enhanced monitoring would need another IAM role' },
    ]),
  });
  const resources: Resources = { [ids.writer]: instance('aurora-writer', readers > 0 ? 0 : undefined, undefined) };
  // The private subnets span two zones: readers alternate into the one that is not the writer's.
  for (let index = 1; index <= readers; index++) resources[ids.reader(index)] = instance(`aurora-reader-${index}`, 1, index - 1);
  return resources;
}
