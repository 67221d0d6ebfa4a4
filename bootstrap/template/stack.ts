/**
 * The bootstrap stack of one environment, assembled from its parts. The
 * scalar settings the environment file chooses (AMI, sizes, capacities) are
 * stack parameters written to parameters.json; everything structural
 * (production protections, the public 443 rule, the list of provider-key
 * secrets, the user data) is rendered into the template itself.
 */
import type { EnvConfig } from '../../generator/config/schema.js';
import { currentServerIds, environmentSecrets, OUTPUTS, secretLogicalId, serverLogicalIds, stackName } from '../names.js';
import { alarmResources, ALERTS_TOPIC, auroraConnectionsAlarmAt } from './alarms.js';
import { clusterResources } from './cluster.js';
import { hasRegistrationAddress, REGISTRATION_LOAD_BALANCER } from './user-data.js';
import { getAtt, ref, type CfnOutput, type CfnParameter, type CfnTemplate } from './cfn.js';
import { activeAuroraCluster, databaseResources, isProduction, PRODUCTION_MIN_BACKUP_DAYS } from './database.js';
import { identityOutputs, identityResources } from './identity.js';
import { networkResources } from './network.js';
import { replicationParameters, replicationResources } from './replication.js';
import { nodeResources } from './node.js';
import { secretResources } from './secrets.js';
import { DATA_BUCKETS, storageResources } from './storage.js';

export interface StackParameter extends CfnParameter {
  value: (config: EnvConfig) => string;
  /** Only in environments this holds for (the agent pool's settings exist only with agents). */
  only?: (config: EnvConfig) => boolean;
}

const withAgents = (config: EnvConfig) => config.cluster.agents.max > 0;

export const PARAMETERS: Record<string, StackParameter> = {
  NodeAmiId: { Type: 'AWS::EC2::Image::Id', Description: 'Pinned AMI of the K3s node (node.amiId).', value: (c) => c.node.amiId },
  NodeInstanceType: { Type: 'String', Description: 'Instance type of the K3s node (node.instanceType).', AllowedPattern: '^[a-z][a-z0-9-]*\\.[a-z0-9]+$', value: (c) => c.node.instanceType },
  NodeRootVolumeGiB: { Type: 'Number', Description: 'Root volume size (node.rootVolumeGiB).', MinValue: 30, MaxValue: 1000, value: (c) => String(c.node.rootVolumeGiB) },
  NodeDataVolumeGiB: { Type: 'Number', Description: 'Longhorn data volume size (node.dataVolumeGiB).', MinValue: 20, MaxValue: 16000, value: (c) => String(c.node.dataVolumeGiB) },
  AgentInstanceType: { Type: 'String', Description: 'Instance type of the K3s agents (cluster.agents.instanceType).', AllowedPattern: '^[a-z][a-z0-9-]*\\.[a-z0-9]+$', value: (c) => c.cluster.agents.instanceType, only: withAgents },
  AgentMinSize: { Type: 'Number', Description: 'Fewest agents (cluster.agents.min).', MinValue: 0, MaxValue: 50, value: (c) => String(c.cluster.agents.min), only: withAgents },
  AgentMaxSize: { Type: 'Number', Description: 'Most agents (cluster.agents.max).', MinValue: 1, MaxValue: 50, value: (c) => String(c.cluster.agents.max), only: withAgents },
  AgentDesiredCapacity: { Type: 'Number', Description: 'Agents to run (cluster.agents.desired).', MinValue: 0, MaxValue: 50, value: (c) => String(c.cluster.agents.desired), only: withAgents },
  AgentDataVolumeGiB: { Type: 'Number', Description: 'Longhorn data volume of each agent (cluster.agents.dataVolumeGiB).', MinValue: 20, MaxValue: 16000, value: (c) => String(c.cluster.agents.dataVolumeGiB), only: withAgents },
  AuroraMinCapacity: { Type: 'Number', Description: 'Aurora Serverless v2 minimum ACUs (aurora.minCapacity).', MinValue: 0, MaxValue: 256, value: (c) => String(c.aurora.minCapacity) },
  AuroraMaxCapacity: { Type: 'Number', Description: 'Aurora Serverless v2 maximum ACUs (aurora.maxCapacity).', MinValue: 1, MaxValue: 256, value: (c) => String(c.aurora.maxCapacity) },
  AuroraConnectionsAlarmAt: { Type: 'Number', Description: 'Connections alarm: 80% of max_connections at aurora.maxCapacity.', MinValue: 1, MaxValue: 5000, value: (c) => String(auroraConnectionsAlarmAt(c.aurora.maxCapacity)) },
  AuroraBackupRetentionDays: {
    Type: 'Number',
    Description: 'Days Aurora keeps automated backups (aurora.backupRetentionDays).',
    MinValue: 1,
    MaxValue: 35,
    value: (c) => String(c.aurora.backupRetentionDays),
  },
};

function parametersOf(config: EnvConfig): [string, StackParameter][] {
  return Object.entries(PARAMETERS).filter(([, parameter]) => parameter.only?.(config) ?? true);
}

function parameters(config: EnvConfig): Record<string, CfnParameter> {
  const fromConfig: Record<string, CfnParameter> = Object.fromEntries(
    parametersOf(config).map(([name, { value: _value, only: _only, ...parameter }]) => {
      // Production never keeps backups for less than a week, even if the file asks.
      if (name === 'AuroraBackupRetentionDays' && isProduction(config)) return [name, { ...parameter, MinValue: PRODUCTION_MIN_BACKUP_DAYS }];
      return [name, parameter];
    }),
  );
  // Filled by npm run bootstrap from the replica stack (not in parameters.json): only with backups.replication.
  return { ...fromConfig, ...replicationParameters(config) };
}

/** The values of the stack parameters, in the form `aws cloudformation --parameters file://` and the SDK take. */
export function parameterValues(config: EnvConfig): { ParameterKey: string; ParameterValue: string }[] {
  return parametersOf(config).map(([ParameterKey, parameter]) => ({ ParameterKey, ParameterValue: parameter.value(config) }));
}

function outputs(config: EnvConfig): Record<string, CfnOutput> {
  // After a point-in-time restore, the restored cluster (aurora.restores), so the outputs file and the apps follow it.
  const aurora = activeAuroraCluster(config);
  const result: Record<string, CfnOutput> = {
    [OUTPUTS.auroraEndpoint]: { Description: 'Writer endpoint of the Aurora cluster', Value: getAtt(aurora, 'Endpoint.Address') },
    [OUTPUTS.auroraPort]: { Description: 'PostgreSQL port', Value: getAtt(aurora, 'Endpoint.Port') },
    [OUTPUTS.auroraMasterUserSecretArn]: { Description: 'ARN of the RDS-managed master user secret (the value stays in Secrets Manager)', Value: getAtt(aurora, 'MasterUserSecret.SecretArn') },
    [OUTPUTS.attachmentsBucket]: { Description: 'Bucket of Open WebUI attachments', Value: ref(DATA_BUCKETS.attachments) },
    [OUTPUTS.longhornBackupsBucket]: { Description: 'Bucket of Longhorn backups', Value: ref(DATA_BUCKETS.longhornBackups) },
    [OUTPUTS.etcdSnapshotsBucket]: { Description: 'Bucket of K3s etcd snapshots', Value: ref(DATA_BUCKETS.etcdSnapshots) },
    [OUTPUTS.kubeconfigBucket]: { Description: 'Bucket holding the kubeconfig the node uploads', Value: ref(DATA_BUCKETS.kubeconfig) },
    [OUTPUTS.nodeInstanceId]: { Description: 'EC2 instance of the K3s node (for SSM sessions)', Value: ref(currentServerIds(config, 1).instance) },
    [OUTPUTS.secretsPrefix]: { Description: 'Prefix of every Secrets Manager name of the environment', Value: config.secretsManager.prefix },
    [OUTPUTS.kmsKeyArn]: { Description: 'KMS key encrypting volumes, Aurora, buckets and secrets', Value: getAtt('KmsKey', 'Arn') },
  };
  Object.assign(result, identityOutputs(config));
  result['AlertsTopicArn'] = { Description: 'SNS topic the CloudWatch alarms publish to (subscribers: alerts.email)', Value: ref(ALERTS_TOPIC) };
  if (hasRegistrationAddress(config)) {
    result['RegistrationAddress'] = { Description: 'DNS name of the internal load balancer nodes register through (port 6443)', Value: getAtt(REGISTRATION_LOAD_BALANCER, 'DNSName') };
  }
  for (let index = 2; index <= config.cluster.servers; index++) {
    result[`Server${index}InstanceId`] = { Description: `EC2 instance of K3s server ${index} (for SSM sessions)`, Value: ref(currentServerIds(config, index).instance) };
  }
  if (config.cluster.agents.max > 0) result['AgentGroupName'] = { Description: 'Auto Scaling group of the K3s agents', Value: ref('AgentGroup') };
  if (config.aurora.readers > 0) result['AuroraReaderEndpoint'] = { Description: 'Reader endpoint of the Aurora cluster (the readers; the failover target)', Value: getAtt(aurora, 'ReadEndpoint.Address') };
  for (const secret of environmentSecrets(config)) {
    result[`${secretLogicalId(secret.reference)}Arn`] = { Description: `ARN of ${secret.name}`, Value: ref(secretLogicalId(secret.reference)) };
  }
  return result;
}

/** "K3s node" for one server (as before), "3 K3s servers and 2-6 agents" for a cluster. */
function clusterShape(config: EnvConfig): string {
  const { servers, agents } = config.cluster;
  if (servers === 1 && agents.max === 0) return 'K3s node';
  const pool = agents.max > 0 ? ` and ${agents.min === agents.max ? agents.min : `${agents.min}-${agents.max}`} agents` : '';
  return `${servers} K3s server(s)${pool}`;
}

export function bootstrapTemplate(config: EnvConfig): CfnTemplate {
  const stack = stackName(config);
  return {
    AWSTemplateFormatVersion: '2010-09-09',
    Description: `DubAI AI Orchestration Hub, environment ${config.name} (${config.tier}): VPC, ${clusterShape(config)}, Aurora Serverless v2, S3, Secrets Manager. Rendered from environments/${config.name}.yaml; deploy with npm run bootstrap -- --env ${config.name}.`,
    Parameters: parameters(config),
    Resources: {
      ...networkResources(config, stack),
      ...storageResources(config, stack),
      ...secretResources(config, stack),
      ...databaseResources(config, stack),
      ...nodeResources(config, stack),
      ...clusterResources(config, stack),
      ...identityResources(config, stack),
      ...alarmResources(config, stack),
      ...replicationResources(config, stack),
    },
    Outputs: outputs(config),
  };
}
