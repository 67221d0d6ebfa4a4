/**
 * The AWS side of alerting: CloudWatch alarms on what the cluster cannot see
 * from inside (Aurora at its capacity ceiling, its CPU, free memory and
 * connections; every node's EC2 status checks, the agents through their Auto
 * Scaling group), published to one SNS topic encrypted with its own KMS key,
 * whose e-mail subscribers come from `alerts.email` of the environment.
 * Each alarm notifies on ALARM and again on OK.
 */
import { serverZones } from '../../generator/cluster/topology.js';
import type { EnvConfig } from '../../generator/config/schema.js';
import { currentServerIds } from '../names.js';
import { kmsKeyPolicy, ref, RETAIN, sub, tags, type CfnObject, type CfnResource, type Resources } from './cfn.js';
import { activeAuroraCluster } from './database.js';

export const ALERTS_TOPIC = 'AlertsTopic';
export const ALERTS_KEY = 'AlertsKey';

/** Aurora PostgreSQL's default max_connections, LEAST(DBInstanceClassMemory / 9531392, 5000), at the cluster's maximum ACUs (about 2 GiB each). */
export function auroraMaxConnections(maxCapacity: number): number {
  return Math.min(Math.floor((maxCapacity * 2 * 2 ** 30) / 9531392), 5000);
}

/** The connection count the connections alarm fires at (stack parameter AuroraConnectionsAlarmAt). */
export function auroraConnectionsAlarmAt(maxCapacity: number): number {
  return Math.max(1, Math.floor(auroraMaxConnections(maxCapacity) * ALARM_SETTINGS.connectionsShare));
}

/** What each alarm watches and when it fires; the numbers are the thresholds the alarms render. */
export const ALARM_SETTINGS = {
  /** Five-minute periods, three in a row (every datapoint breaching): a quarter of an hour, not a spike. */
  auroraPeriodSeconds: 300,
  auroraPeriods: 3,
  cpuPercent: 80,
  /** Below this much freeable memory (bytes) the instance swaps or kills connections. */
  freeableMemoryBytes: 256 * 2 ** 20,
  /** Share of max_connections at which the connections alarm fires. */
  connectionsShare: 0.8,
  /** Status checks are one-minute metrics; two failed minutes in a row. */
  statusPeriodSeconds: 60,
  statusPeriods: 2,
} as const;

interface AlarmProps {
  description: string;
  namespace: 'AWS/RDS' | 'AWS/EC2';
  metric: string;
  dimensions: { Name: string; Value: CfnObject | string }[];
  statistic: 'Maximum' | 'Minimum' | 'Average';
  comparison: 'GreaterThanOrEqualToThreshold' | 'GreaterThanThreshold' | 'LessThanThreshold';
  /** A number, or a Ref to a Number parameter (so a capacity change is a parameter change, not a template change). */
  threshold: number | CfnObject;
  period: number;
  periods: number;
  /** A stopped node or a paused database reports nothing; that is not an alarm. */
  missingData?: 'notBreaching' | 'breaching' | 'missing';
}

/** CloudFormation names each alarm `<stack>-<logical id>-<suffix>`, which says as much as a chosen name and keeps the one-server template under the 51,200-byte request limit. */
function alarm(props: AlarmProps): CfnResource {
  return {
    Type: 'AWS::CloudWatch::Alarm',
    Properties: {
      AlarmDescription: props.description,
      Namespace: props.namespace,
      MetricName: props.metric,
      Dimensions: props.dimensions,
      Statistic: props.statistic,
      ComparisonOperator: props.comparison,
      Threshold: props.threshold,
      Period: props.period,
      EvaluationPeriods: props.periods,
      TreatMissingData: props.missingData ?? 'notBreaching',
      AlarmActions: [ref(ALERTS_TOPIC)],
      OKActions: [ref(ALERTS_TOPIC)],
    },
  };
}

function auroraAlarms(config: EnvConfig): Resources {
  // The cluster in use: after a point-in-time restore, the restored one (aurora.restores).
  const cluster = [{ Name: 'DBClusterIdentifier', Value: ref(activeAuroraCluster(config)) }];
  const { auroraPeriodSeconds: period, auroraPeriods: periods } = ALARM_SETTINGS;
  return {
    AuroraCapacityAtMaxAlarm: alarm({
      description: 'Aurora at its maximum ACUs (aurora.maxCapacity): raise it or find the load.',
      namespace: 'AWS/RDS',
      metric: 'ServerlessDatabaseCapacity',
      dimensions: cluster,
      statistic: 'Maximum',
      comparison: 'GreaterThanOrEqualToThreshold',
      threshold: ref('AuroraMaxCapacity'),
      period,
      periods,
    }),
    AuroraCpuAlarm: alarm({
      description: `Aurora CPU above ${ALARM_SETTINGS.cpuPercent}%.`,
      namespace: 'AWS/RDS',
      metric: 'CPUUtilization',
      dimensions: cluster,
      statistic: 'Average',
      comparison: 'GreaterThanThreshold',
      threshold: ALARM_SETTINGS.cpuPercent,
      period,
      periods,
    }),
    AuroraFreeableMemoryAlarm: alarm({
      description: `Aurora freeable memory below ${ALARM_SETTINGS.freeableMemoryBytes / 2 ** 20} MiB.`,
      namespace: 'AWS/RDS',
      metric: 'FreeableMemory',
      dimensions: cluster,
      statistic: 'Minimum',
      comparison: 'LessThanThreshold',
      threshold: ALARM_SETTINGS.freeableMemoryBytes,
      period,
      periods,
    }),
    AuroraConnectionsAlarm: alarm({
      description: `Aurora connections at ${ALARM_SETTINGS.connectionsShare * 100}% of max_connections.`,
      namespace: 'AWS/RDS',
      metric: 'DatabaseConnections',
      dimensions: cluster,
      statistic: 'Maximum',
      comparison: 'GreaterThanOrEqualToThreshold',
      threshold: ref('AuroraConnectionsAlarmAt'),
      period,
      periods,
    }),
  };
}

function nodeAlarms(config: EnvConfig): Resources {
  const { statusPeriodSeconds: period, statusPeriods: periods } = ALARM_SETTINGS;
  const statusCheck = (description: string, dimension: { Name: string; Value: CfnObject }): AlarmProps => ({
    description,
    namespace: 'AWS/EC2',
    metric: 'StatusCheckFailed',
    dimensions: [dimension],
    statistic: 'Maximum',
    comparison: 'GreaterThanOrEqualToThreshold',
    threshold: 1,
    period,
    periods,
    // A node that stops reporting is as down as one that fails its checks.
    missingData: 'breaching',
  });
  const resources: Resources = {};
  serverZones(config).forEach((_zone, position) => {
    const index = position + 1;
    // The server's current instance (cluster.serverGenerations): recover-node renames it.
    const instance = currentServerIds(config, index).instance;
    resources[`${instance}StatusAlarm`] = alarm(
      statusCheck(`K3s server ${index} fails its EC2 status checks.`, { Name: 'InstanceId', Value: ref(instance) }),
    );
  });
  if (config.cluster.agents.max > 0) {
    resources['AgentGroupStatusAlarm'] = alarm({
      ...statusCheck('A K3s agent fails its EC2 status checks.', { Name: 'AutoScalingGroupName', Value: ref('AgentGroup') }),
      // The group can be scaled to zero agents.
      missingData: 'notBreaching',
    });
  }
  return resources;
}

function topicResources(config: EnvConfig, stack: string): Resources {
  const account = sub('${AWS::AccountId}');
  const resources: Resources = {
    [ALERTS_KEY]: {
      Type: 'AWS::KMS::Key',
      ...RETAIN,
      Properties: {
        // Its own key: CloudWatch must be able to use it, which the stack's data key does not allow.
        Description: `${stack}: alert topic`,
        EnableKeyRotation: true,
        PendingWindowInDays: 7,
        KeyPolicy: kmsKeyPolicy([
          {
            Sid: 'CloudWatchPublishesEncrypted',
            Effect: 'Allow',
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
            Resource: '*',
            Condition: { StringEquals: { 'aws:SourceAccount': account } },
          },
        ]),
        Tags: tags(stack, 'alerts'),
      },
    },
    [ALERTS_TOPIC]: {
      Type: 'AWS::SNS::Topic',
      Properties: {
        TopicName: `${stack}-alerts`,
        KmsMasterKeyId: ref(ALERTS_KEY),
        Tags: tags(stack, 'alerts'),
      },
    },
    AlertsTopicPolicy: {
      Type: 'AWS::SNS::TopicPolicy',
      Properties: {
        Topics: [ref(ALERTS_TOPIC)],
        PolicyDocument: {
          Version: '2012-10-17',
          Statement: [
            {
              Sid: 'CloudWatchAlarmsOfThisAccount',
              Effect: 'Allow',
              Principal: { Service: 'cloudwatch.amazonaws.com' },
              Action: 'sns:Publish',
              Resource: ref(ALERTS_TOPIC),
              Condition: { StringEquals: { 'aws:SourceAccount': account } },
            },
          ],
        },
      },
    },
  };
  config.alerts.email.forEach((address, index) => {
    resources[`AlertsEmail${index + 1}Subscription`] = { Type: 'AWS::SNS::Subscription', Properties: { TopicArn: ref(ALERTS_TOPIC), Protocol: 'email', Endpoint: address } };
  });
  return resources;
}

export function alarmResources(config: EnvConfig, stack: string): Resources {
  return { ...topicResources(config, stack), ...auroraAlarms(config), ...nodeAlarms(config) };
}
