/**
 * Aurora Serverless v2 PostgreSQL: private, encrypted with the stack's key,
 * TLS forced, master password managed by RDS (a secret RDS owns), backups
 * retained, deletion protection always on in production, and a final
 * snapshot whenever the cluster is deleted or replaced.
 */
import type { EnvConfig } from '../../generator/config/schema.js';
import { DATABASES } from '../../generator/platform-names.js';
import { checkovSkips, getAtt, ref, selectAz, SNAPSHOT, tags, type Resources } from './cfn.js';
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

export function databaseResources(config: EnvConfig, stack: string): Resources {
  const deletionProtection = auroraDeletionProtection(config);
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
    AuroraCluster: {
      Type: 'AWS::RDS::DBCluster',
      ...SNAPSHOT,
      Properties: {
        Engine: AURORA_ENGINE,
        EngineVersion: config.aurora.engineVersion,
        DatabaseName: DATABASES.openWebUI,
        Port: POSTGRES_PORT,
        MasterUsername: AURORA_MASTER_USERNAME,
        ManageMasterUserPassword: true,
        MasterUserSecret: { KmsKeyId: ref('KmsKey') },
        StorageEncrypted: true,
        KmsKeyId: getAtt('KmsKey', 'Arn'),
        ServerlessV2ScalingConfiguration: { MinCapacity: ref('AuroraMinCapacity'), MaxCapacity: ref('AuroraMaxCapacity') },
        BackupRetentionPeriod: ref('AuroraBackupRetentionDays'),
        PreferredBackupWindow: '22:00-23:00',
        PreferredMaintenanceWindow: 'fri:23:30-sat:00:30',
        DeletionProtection: deletionProtection,
        CopyTagsToSnapshot: true,
        EnableIAMDatabaseAuthentication: true,
        EnableCloudwatchLogsExports: ['postgresql'],
        DBSubnetGroupName: ref('AuroraSubnetGroup'),
        DBClusterParameterGroupName: ref('AuroraClusterParameterGroup'),
        VpcSecurityGroupIds: [getAtt('AuroraSecurityGroup', 'GroupId')],
        Tags: tags(stack, 'aurora'),
      },
    },
    ...auroraInstances(config, stack),
  };
}

/**
 * The writer and, with aurora.readers, reader instances. With readers the
 * writer sits in the first zone and reader n in the zone after it, so a
 * failover (to the reader with promotion tier 0) moves to another zone.
 */
function auroraInstances(config: EnvConfig, stack: string): Resources {
  const readers = config.aurora.readers;
  const instance = (name: string, zone: number | undefined, promotionTier: number | undefined) => ({
    Type: 'AWS::RDS::DBInstance',
    // The data lives in the cluster (snapshotted above); an instance of a cluster cannot be snapshotted on its own.
    DeletionPolicy: 'Delete' as const,
    UpdateReplacePolicy: 'Delete' as const,
    Properties: {
      Engine: AURORA_ENGINE,
      DBClusterIdentifier: ref('AuroraCluster'),
      DBInstanceClass: 'db.serverless',
      PubliclyAccessible: false,
      AutoMinorVersionUpgrade: true,
      EnablePerformanceInsights: true,
      PerformanceInsightsKMSKeyId: getAtt('KmsKey', 'Arn'),
      PerformanceInsightsRetentionPeriod: 7,
      ...(zone === undefined ? {} : { AvailabilityZone: selectAz(zone) }),
      ...(promotionTier === undefined ? {} : { PromotionTier: promotionTier }),
      Tags: tags(stack, name),
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
  const resources: Resources = { AuroraWriter: instance('aurora-writer', readers > 0 ? 0 : undefined, undefined) };
  // The private subnets span two zones: readers alternate into the one that is not the writer's.
  for (let index = 1; index <= readers; index++) resources[`AuroraReader${index}`] = instance(`aurora-reader-${index}`, 1, index - 1);
  return resources;
}
