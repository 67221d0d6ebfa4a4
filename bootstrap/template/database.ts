/**
 * Aurora Serverless v2 PostgreSQL: private, encrypted with the stack's key,
 * TLS forced, master password managed by RDS (a secret RDS owns), backups
 * retained, deletion protection always on in production, and a final
 * snapshot whenever the cluster is deleted or replaced.
 */
import type { EnvConfig } from '../../generator/config/schema.js';
import { DATABASES } from '../../generator/platform-names.js';
import { checkovSkips, getAtt, ref, SNAPSHOT, tags, type Resources } from './cfn.js';
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
    AuroraWriter: {
      Type: 'AWS::RDS::DBInstance',
      // The data lives in the cluster (snapshotted above); an instance of a cluster cannot be snapshotted on its own.
      DeletionPolicy: 'Delete',
      UpdateReplacePolicy: 'Delete',
      Properties: {
        Engine: AURORA_ENGINE,
        DBClusterIdentifier: ref('AuroraCluster'),
        DBInstanceClass: 'db.serverless',
        PubliclyAccessible: false,
        AutoMinorVersionUpgrade: true,
        EnablePerformanceInsights: true,
        PerformanceInsightsKMSKeyId: getAtt('KmsKey', 'Arn'),
        PerformanceInsightsRetentionPeriod: 7,
        Tags: tags(stack, 'aurora-writer'),
      },
      Metadata: checkovSkips([
        { id: 'CKV_AWS_157', comment: 'Aurora keeps six copies of the data across three zones; a second serverless reader would double the cost of a single-node platform' },
        { id: 'CKV_AWS_118', comment: 'Performance Insights and CloudWatch log exports cover monitoring; enhanced monitoring would need another IAM role' },
      ]),
    },
  };
}
