/**
 * The alert rules of every environment under promtool (pinned in
 * scripts/tools/project-tools.ts): `promtool check rules`, and a unit test per
 * alert with series that fire it and series that do not. A broken rule or an
 * unmet expectation must make promtool fail, which the last cases prove.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { ETCD_SNAPSHOT_CRON, alertRuleGroups, alertingRulesFile, type AlertRule } from '../generator/observability/alert-rules.js';
import { cronMaxIntervalSeconds } from '../generator/observability/cron-interval.js';
import type { EnvConfig } from '../generator/config/schema.js';
import { promtoolPath } from '../scripts/tools/project-tools.js';
import { ENVIRONMENTS, ROOT, copyOf, environment } from './support/environments.js';

const TIMEOUT = 180_000;
const work = mkdtempSync(join(tmpdir(), 'alert-rules-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

interface Series {
  series: string;
  values: string;
}
interface Case {
  /** Series under which the alert fires at evalTime, with the labels it carries. */
  fires: { series: Series[]; evalTime: string; labels: Record<string, string> }[];
  /** Series under which it stays silent at evalTime. */
  quiet: { series: Series[]; evalTime: string }[];
}

const NO_PUBLIC_INGRESS = 'CertificateExpiringSoon';

/** Series per alert; intervals are one minute. */
const CASES: Record<string, Case> = {
  LiteLLMProviderErrorRatioHigh: {
    fires: [{ series: [{ series: 'litellm_deployment_failure_responses_total{api_provider="openai",requested_model="gpt-4o"}', values: '0+10x40' }, { series: 'litellm_deployment_total_requests_total{api_provider="openai",requested_model="gpt-4o"}', values: '0+100x40' }], evalTime: '30m', labels: { api_provider: 'openai' } }],
    quiet: [{ series: [{ series: 'litellm_deployment_failure_responses_total{api_provider="openai"}', values: '0+1x40' }, { series: 'litellm_deployment_total_requests_total{api_provider="openai"}', values: '0+100x40' }], evalTime: '30m' }],
  },
  LiteLLMProviderLatencyHigh: {
    fires: [{ series: [{ series: 'litellm_llm_api_latency_metric_bucket{model="gpt-4o",le="10"}', values: '0x40' }, { series: 'litellm_llm_api_latency_metric_bucket{model="gpt-4o",le="60"}', values: '0+10x40' }, { series: 'litellm_llm_api_latency_metric_bucket{model="gpt-4o",le="+Inf"}', values: '0+10x40' }], evalTime: '35m', labels: { model: 'gpt-4o' } }],
    quiet: [{ series: [{ series: 'litellm_llm_api_latency_metric_bucket{model="gpt-4o",le="10"}', values: '0+10x40' }, { series: 'litellm_llm_api_latency_metric_bucket{model="gpt-4o",le="60"}', values: '0+10x40' }, { series: 'litellm_llm_api_latency_metric_bucket{model="gpt-4o",le="+Inf"}', values: '0+10x40' }], evalTime: '35m' }],
  },
  LiteLLMDown: {
    fires: [
      { series: [{ series: 'up{job="litellm",instance="10.42.0.9:4000",namespace="litellm",pod="litellm-0"}', values: '0x20' }], evalTime: '10m', labels: { job: 'litellm', instance: '10.42.0.9:4000', namespace: 'litellm', pod: 'litellm-0' } },
      { series: [], evalTime: '10m', labels: { job: 'litellm' } },
    ],
    quiet: [{ series: [{ series: 'up{job="litellm",instance="10.42.0.9:4000"}', values: '1x20' }, { series: 'kube_deployment_status_replicas_available{namespace="litellm",deployment="litellm"}', values: '1x20' }], evalTime: '10m' }],
  },
  OpenWebUIDown: {
    fires: [{ series: [{ series: 'kube_deployment_status_replicas_available{namespace="open-webui",deployment="open-webui"}', values: '0x20' }], evalTime: '10m', labels: { namespace: 'open-webui', deployment: 'open-webui' } }],
    quiet: [{ series: [{ series: 'kube_deployment_status_replicas_available{namespace="open-webui",deployment="open-webui"}', values: '1x20' }], evalTime: '10m' }],
  },
  ArgoCDApplicationNotSyncedOrHealthy: {
    fires: [
      { series: [{ series: 'argocd_app_info{name="litellm",sync_status="OutOfSync",health_status="Healthy"}', values: '1x30' }], evalTime: '20m', labels: { name: 'litellm' } },
      { series: [{ series: 'argocd_app_info{name="monitoring",sync_status="Synced",health_status="Degraded"}', values: '1x30' }], evalTime: '20m', labels: { name: 'monitoring' } },
    ],
    // Out of sync for ten minutes only (then synced): not yet 15 minutes.
    quiet: [
      { series: [{ series: 'argocd_app_info{name="litellm",sync_status="Synced",health_status="Healthy"}', values: '1x30' }], evalTime: '20m' },
      { series: [{ series: 'argocd_app_info{name="litellm",sync_status="OutOfSync",health_status="Healthy"}', values: '_x10 1x10' }], evalTime: '20m' },
    ],
  },
  ExternalSecretNotReady: {
    fires: [{ series: [{ series: 'externalsecret_status_condition{namespace="litellm",name="litellm-env",condition="Ready",status="False"}', values: '1x20' }], evalTime: '15m', labels: { namespace: 'litellm', name: 'litellm-env' } }],
    quiet: [{ series: [{ series: 'externalsecret_status_condition{namespace="litellm",name="litellm-env",condition="Ready",status="False"}', values: '0x20' }, { series: 'externalsecret_status_condition{namespace="litellm",name="litellm-env",condition="Ready",status="True"}', values: '1x20' }], evalTime: '15m' }],
  },
  LonghornVolumeDegraded: {
    fires: [{ series: [{ series: 'longhorn_volume_robustness{volume="pvc-1",node="n1"}', values: '2x30' }], evalTime: '20m', labels: { volume: 'pvc-1' } }],
    quiet: [{ series: [{ series: 'longhorn_volume_robustness{volume="pvc-1",node="n1"}', values: '1x30' }], evalTime: '20m' }],
  },
  LonghornBackupTooOld: {
    // Dev backs up daily: the last backup at time 0, evaluated 50 hours later (> 48 h).
    fires: [{ series: [{ series: 'longhorn_backup_created_timestamp_seconds{volume="pvc-1",name="backup-a"}', values: '0x3000' }], evalTime: '50h', labels: { volume: 'pvc-1' } }],
    // A backup an hour old at every moment.
    quiet: [{ series: [{ series: 'longhorn_backup_created_timestamp_seconds{volume="pvc-1",name="backup-a"}', values: '-3600+60x3000' }], evalTime: '50h' }],
  },
  EtcdSnapshotsMissing: {
    fires: [
      { series: [], evalTime: '1h', labels: {} },
      { series: [{ series: 'k3s_etcd_snapshot_created_timestamp_seconds{name="etcd-snapshot-a",node="server-0"}', values: '0x800' }], evalTime: '13h', labels: {} },
    ],
    quiet: [{ series: [{ series: 'k3s_etcd_snapshot_created_timestamp_seconds{name="etcd-snapshot-a",node="server-0"}', values: '-3600+60x800' }], evalTime: '13h' }],
  },
  NodeDiskPressure: {
    fires: [
      { series: [{ series: 'kube_node_status_condition{node="server-0",condition="DiskPressure",status="true"}', values: '1x20' }], evalTime: '15m', labels: { node: 'server-0' } },
      { series: [{ series: 'node_filesystem_avail_bytes{node="server-0",mountpoint="/",fstype="ext4"}', values: '5x20' }, { series: 'node_filesystem_size_bytes{node="server-0",mountpoint="/",fstype="ext4"}', values: '100x20' }], evalTime: '15m', labels: { node: 'server-0' } },
    ],
    quiet: [{ series: [{ series: 'kube_node_status_condition{node="server-0",condition="DiskPressure",status="true"}', values: '0x20' }, { series: 'node_filesystem_avail_bytes{node="server-0",mountpoint="/",fstype="ext4"}', values: '50x20' }, { series: 'node_filesystem_size_bytes{node="server-0",mountpoint="/",fstype="ext4"}', values: '100x20' }], evalTime: '15m' }],
  },
  NodeMemoryPressure: {
    fires: [{ series: [{ series: 'kube_node_status_condition{node="server-0",condition="MemoryPressure",status="true"}', values: '1x20' }], evalTime: '15m', labels: { node: 'server-0' } }],
    quiet: [{ series: [{ series: 'kube_node_status_condition{node="server-0",condition="MemoryPressure",status="true"}', values: '0x20' }], evalTime: '15m' }],
  },
  PodCrashLooping: {
    fires: [{ series: [{ series: 'kube_pod_container_status_waiting_reason{namespace="litellm",pod="litellm-0",container="litellm",reason="CrashLoopBackOff"}', values: '1x30' }], evalTime: '20m', labels: { namespace: 'litellm', pod: 'litellm-0', container: 'litellm' } }],
    quiet: [{ series: [{ series: 'kube_pod_container_status_waiting_reason{namespace="litellm",pod="litellm-0",container="litellm",reason="ContainerCreating"}', values: '1x30' }], evalTime: '20m' }],
  },
  [NO_PUBLIC_INGRESS]: {
    // Expires seven days after time 0, evaluated two hours in.
    fires: [{ series: [{ series: 'certmanager_certificate_expiration_timestamp_seconds{namespace="open-webui",name="hub-tls"}', values: '604800x200' }], evalTime: '2h', labels: { namespace: 'open-webui', name: 'hub-tls' } }],
    quiet: [{ series: [{ series: 'certmanager_certificate_expiration_timestamp_seconds{namespace="open-webui",name="hub-tls"}', values: '8640000x200' }], evalTime: '2h' }],
  },
};

/** What promtool expands `{{ $labels.x }}` to: the alert's labels. */
function expand(template: string, labels: Record<string, string>): string {
  return template.replace(/\{\{ \$labels\.([a-z_]+) \}\}/g, (_, name: string) => labels[name] ?? '');
}

function unitTests(config: EnvConfig, rules: AlertRule[], cases: Record<string, Case>): Record<string, unknown>[] {
  const tests: Record<string, unknown>[] = [];
  for (const rule of rules) {
    const testCase = cases[rule.alert]!;
    for (const fire of testCase.fires) {
      const labels = { ...fire.labels, severity: rule.severity, environment: config.name };
      tests.push({
        name: `${rule.alert} fires`,
        interval: '1m',
        input_series: fire.series,
        alert_rule_test: [{ eval_time: fire.evalTime, alertname: rule.alert, exp_alerts: [{ exp_labels: labels, exp_annotations: { summary: expand(rule.summary, labels), runbook: expand(rule.runbook, labels) } }] }],
      });
    }
    for (const quiet of testCase.quiet) {
      tests.push({ name: `${rule.alert} stays quiet`, interval: '1m', input_series: quiet.series, alert_rule_test: [{ eval_time: quiet.evalTime, alertname: rule.alert, exp_alerts: [] }] });
    }
  }
  return tests;
}

function promtool(args: string[]) {
  const result = spawnSync(promtoolPath(), args, { cwd: work, encoding: 'utf8', timeout: TIMEOUT });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

/** Writes the rule file and its unit tests for `config`, returns the test file name. */
function writeSuite(name: string, config: EnvConfig, rulesFile: Record<string, unknown>, cases = CASES): string {
  const rules = alertRuleGroups(config).flatMap((group) => group.rules);
  writeFileSync(join(work, `${name}.rules.yml`), stringify(rulesFile, { lineWidth: 0 }));
  writeFileSync(join(work, `${name}.test.yml`), stringify({ rule_files: [`${name}.rules.yml`], evaluation_interval: '1m', tests: unitTests(config, rules, cases) }, { lineWidth: 0 }));
  return `${name}.test.yml`;
}

/** Every environment, and prod with a public ingress (the certificate alert). */
const SUBJECTS: { name: string; config: EnvConfig }[] = [
  ...ENVIRONMENTS.map((env) => ({ name: env, config: environment(env).config })),
  { name: 'prod-public', config: (() => { const env = copyOf(environment('prod')); env.config.publicIngress.enabled = true; return env.config; })() },
];

describe('alert rules (promtool)', () => {
  it('every alert has series that fire it and series that do not, and the certificate alert exists only with a public ingress', () => {
    for (const { name, config } of SUBJECTS) {
      const alerts = alertRuleGroups(config).flatMap((group) => group.rules.map((rule) => rule.alert));
      expect(alerts.length, name).toBeGreaterThan(10);
      for (const alert of alerts) {
        expect(CASES[alert], `${name}: ${alert} has no test case`).toBeDefined();
        expect(CASES[alert]!.fires.length * CASES[alert]!.quiet.length, alert).toBeGreaterThan(0);
      }
      expect(alerts.includes(NO_PUBLIC_INGRESS), name).toBe(config.publicIngress.enabled);
      for (const rule of alertRuleGroups(config).flatMap((group) => group.rules)) expect(rule.runbook.length, rule.alert).toBeGreaterThan(40);
    }
  });

  it.each(SUBJECTS.map((subject) => [subject.name, subject.config] as const))('%s: promtool check rules and test rules pass', (name, config) => {
    const suite = writeSuite(name, config, alertingRulesFile(config));
    const check = promtool(['check', 'rules', `${name}.rules.yml`]);
    expect(check.output, check.output).toMatch(/SUCCESS/);
    expect(check.status).toBe(0);
    const test = promtool(['test', 'rules', suite]);
    expect(test.status, test.output).toBe(0);
    expect(test.output).toMatch(/SUCCESS/);
  }, TIMEOUT);

  it('the rendered rule file is the generated one (what promtool tested is what Prometheus loads)', () => {
    for (const env of ENVIRONMENTS) {
      const configMap = readFileSync(join(ROOT, 'rendered', env, 'monitoring', 'configmap_monitoring_prometheus.yaml'), 'utf8');
      for (const rule of alertRuleGroups(environment(env).config).flatMap((group) => group.rules)) expect(configMap, `${env}: ${rule.alert}`).toContain(`alert: ${rule.alert}`);
    }
  });

  it('a broken rule is caught: a wrong threshold fails the unit tests, a wrong expression fails check rules', () => {
    const config = environment('dev').config;
    const broken = structuredClone(alertingRulesFile(config)) as { groups: { rules: { alert: string; expr: string }[] }[] };
    const ratio = broken.groups.flatMap((group) => group.rules).find((rule) => rule.alert === 'LiteLLMProviderErrorRatioHigh')!;
    ratio.expr = ratio.expr.replace(/> [0-9.]+$/, '> 0.5');
    const test = promtool(['test', 'rules', writeSuite('broken-threshold', config, broken)]);
    expect(test.status, test.output).not.toBe(0);
    expect(test.output).toMatch(/LiteLLMProviderErrorRatioHigh/);

    ratio.expr = 'sum by (api_provider) (rate(litellm_deployment_failure_responses_total[10m])'; // unbalanced
    writeSuite('broken-expr', config, broken);
    const check = promtool(['check', 'rules', 'broken-expr.rules.yml']);
    expect(check.status, check.output).not.toBe(0);
  }, TIMEOUT);

  it('an unmet expectation is caught: a case that claims a quiet alert fires fails', () => {
    const config = environment('dev').config;
    const wrong = structuredClone(CASES);
    wrong['PodCrashLooping']!.fires = [{ series: wrong['PodCrashLooping']!.quiet[0]!.series, evalTime: '20m', labels: { namespace: 'litellm', pod: 'litellm-0', container: 'litellm' } }];
    const test = promtool(['test', 'rules', writeSuite('wrong-expectation', config, alertingRulesFile(config), wrong)]);
    expect(test.status, test.output).not.toBe(0);
    expect(test.output).toMatch(/PodCrashLooping/);
  }, TIMEOUT);
});

describe('schedules behind the age alerts', () => {
  it('the etcd snapshot schedule is the one K3s is configured with', () => {
    const userData = readFileSync(join(ROOT, 'bootstrap', 'node', 'user-data.sh'), 'utf8');
    expect(userData).toContain(`etcd-snapshot-schedule-cron: "${ETCD_SNAPSHOT_CRON}"`);
    expect(userData).toMatch(/^etcd-expose-metrics: true$/m);
  });

  it('finds the longest gap of a cron schedule and refuses what it cannot read', () => {
    expect(cronMaxIntervalSeconds('30 2 * * *')).toBe(86_400);
    expect(cronMaxIntervalSeconds('0 */6 * * *')).toBe(6 * 3600);
    expect(cronMaxIntervalSeconds('0 1,5 * * *')).toBe(20 * 3600);
    expect(cronMaxIntervalSeconds('0 3 * * 0')).toBe(7 * 86_400);
    expect(cronMaxIntervalSeconds('0 3 * * 1-5')).toBe(3 * 86_400);
    expect(() => cronMaxIntervalSeconds('0 3 * *')).toThrow(/five fields/);
    expect(() => cronMaxIntervalSeconds('61 3 * * *')).toThrow(/minute "61" is outside 0-59/);
    expect(() => cronMaxIntervalSeconds('0 3 1 1 *')).toThrow(/less than twice/);
  });
});
