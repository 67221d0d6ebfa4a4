/**
 * The AWS side of alerting in the bootstrap stack of every environment:
 * CloudWatch alarms on Aurora (capacity at its configured maximum, CPU,
 * freeable memory, connections) and on every node's status checks, published
 * to an encrypted SNS topic whose subscribers are alerts.email.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { EnvConfig } from '../generator/config/schema.js';
import { serverZones } from '../generator/cluster/topology.js';
import { serverLogicalIds } from '../bootstrap/names.js';
import { ALARM_SETTINGS, auroraConnectionsAlarmAt, auroraMaxConnections } from '../bootstrap/template/alarms.js';
import { bootstrapTemplate, parameterValues } from '../bootstrap/template/stack.js';
import { copyOf, environment, ENVIRONMENTS, ROOT } from './support/environments.js';

type Resource = { Type: string; Properties: Record<string, any> };
const resourcesOf = (config: EnvConfig) => bootstrapTemplate(config).Resources as Record<string, Resource>;
const alarmsOf = (resources: Record<string, Resource>) => Object.entries(resources).filter(([, r]) => r.Type === 'AWS::CloudWatch::Alarm');

describe.each(ENVIRONMENTS)('the %s stack alarms', (name) => {
  const config = environment(name).config;
  const resources = resourcesOf(config);
  const alarms = alarmsOf(resources);
  const byMetric = (metric: string) => alarms.filter(([, alarm]) => alarm.Properties['MetricName'] === metric).map(([, alarm]) => alarm.Properties);

  it('watch Aurora: capacity at the configured maximum ACUs, CPU, freeable memory and connections, on the cluster', () => {
    const [capacity] = byMetric('ServerlessDatabaseCapacity');
    // Thresholds that follow aurora.maxCapacity are stack parameters, so a capacity change stays a parameter change.
    const parameter = (key: string) => parameterValues(config).find((p) => p.ParameterKey === key)?.ParameterValue;
    expect(capacity).toMatchObject({ Namespace: 'AWS/RDS', Statistic: 'Maximum', ComparisonOperator: 'GreaterThanOrEqualToThreshold', Threshold: { Ref: 'AuroraMaxCapacity' } });
    expect(parameter('AuroraMaxCapacity')).toBe(String(config.aurora.maxCapacity));
    expect(byMetric('CPUUtilization')[0]).toMatchObject({ Namespace: 'AWS/RDS', ComparisonOperator: 'GreaterThanThreshold', Threshold: ALARM_SETTINGS.cpuPercent });
    expect(byMetric('FreeableMemory')[0]).toMatchObject({ Statistic: 'Minimum', ComparisonOperator: 'LessThanThreshold', Threshold: 256 * 2 ** 20 });
    const connections = byMetric('DatabaseConnections')[0]!;
    expect(connections['Threshold']).toEqual({ Ref: 'AuroraConnectionsAlarmAt' });
    expect(parameter('AuroraConnectionsAlarmAt')).toBe(String(Math.floor(auroraMaxConnections(config.aurora.maxCapacity) * 0.8)));
    expect(auroraConnectionsAlarmAt(config.aurora.maxCapacity)).toBeGreaterThan(0);
    for (const metric of ['ServerlessDatabaseCapacity', 'CPUUtilization', 'FreeableMemory', 'DatabaseConnections']) {
      expect(byMetric(metric), metric).toHaveLength(1);
      expect(byMetric(metric)[0]!['Dimensions']).toEqual([{ Name: 'DBClusterIdentifier', Value: { Ref: 'AuroraCluster' } }]);
    }
  });

  it('watch the status checks of every server, and of the agents through their Auto Scaling group', () => {
    const checks = byMetric('StatusCheckFailed');
    const servers = serverZones(config).map((_zone, position) => serverLogicalIds(position + 1).instance);
    const dimensions = checks.map((alarm) => alarm['Dimensions'][0]);
    expect(dimensions).toEqual([
      ...servers.map((instance) => ({ Name: 'InstanceId', Value: { Ref: instance } })),
      ...(config.cluster.agents.max > 0 ? [{ Name: 'AutoScalingGroupName', Value: { Ref: 'AgentGroup' } }] : []),
    ]);
    for (const check of checks) expect(check).toMatchObject({ Namespace: 'AWS/EC2', Statistic: 'Maximum', Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold' });
    // Every logical EC2 instance of the stack has its alarm.
    const instances = Object.entries(resources).filter(([, r]) => r.Type === 'AWS::EC2::Instance').map(([id]) => id);
    expect(instances.sort()).toEqual([...servers].sort());
  });

  it('publish ALARM and OK to one topic encrypted with a key CloudWatch may use, subscribed by alerts.email', () => {
    for (const [id, alarm] of alarms) {
      expect(alarm.Properties['AlarmActions'], id).toEqual([{ Ref: 'AlertsTopic' }]);
      expect(alarm.Properties['OKActions'], id).toEqual([{ Ref: 'AlertsTopic' }]);
    }
    expect(resources['AlertsTopic']!.Properties['KmsMasterKeyId']).toEqual({ Ref: 'AlertsKey' });
    const keyStatements = resources['AlertsKey']!.Properties['KeyPolicy'].Statement as { Principal: unknown; Action: unknown }[];
    expect(keyStatements).toContainEqual(expect.objectContaining({ Principal: { Service: 'cloudwatch.amazonaws.com' }, Action: ['kms:Decrypt', 'kms:GenerateDataKey*'] }));
    expect(resources['AlertsKey']!.Properties['EnableKeyRotation']).toBe(true);
    const subscriptions = Object.values(resources).filter((r) => r.Type === 'AWS::SNS::Subscription');
    expect(subscriptions.map((s) => s.Properties['Endpoint'])).toEqual(config.alerts.email);
  });

  it('are in the committed template', () => {
    const committed = parse(readFileSync(join(ROOT, 'rendered', name, 'bootstrap', 'template.yaml'), 'utf8'));
    expect(Object.keys(committed.Resources).filter((id) => committed.Resources[id].Type === 'AWS::CloudWatch::Alarm').sort()).toEqual(alarms.map(([id]) => id).sort());
  });
});

describe('alert subscribers come from the config', () => {
  it('one e-mail subscription per address, and a larger Aurora gets a higher connection threshold', () => {
    const config = copyOf(environment('dev')).config;
    config.alerts.email = ['oncall@example.com', 'platform@example.com'];
    const subscriptions = Object.entries(resourcesOf(config)).filter(([, r]) => r.Type === 'AWS::SNS::Subscription');
    expect(subscriptions.map(([id, r]) => [id, r.Properties])).toEqual([
      ['AlertsEmail1Subscription', { TopicArn: { Ref: 'AlertsTopic' }, Protocol: 'email', Endpoint: 'oncall@example.com' }],
      ['AlertsEmail2Subscription', { TopicArn: { Ref: 'AlertsTopic' }, Protocol: 'email', Endpoint: 'platform@example.com' }],
    ]);
    expect(auroraMaxConnections(16)).toBeGreaterThan(auroraMaxConnections(4));
    expect(auroraMaxConnections(256)).toBe(5000);
  });
});
