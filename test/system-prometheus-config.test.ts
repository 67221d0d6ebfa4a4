/**
 * The system test's local Prometheus configuration (test/system/prometheus.ts)
 * on the rendered tree, and its observation check, without starting anything.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { PROJECT_ROOT } from '../scripts/tools/project-tools.js';
import { NOT_CAUSABLE } from './system/observed-metrics.js';
import { LOCAL_INTERVAL, localPrometheusArgs, localPrometheusConfig, observationProblems, queriedMetrics, unobserved } from './system/prometheus.js';

const configMap = parse(readFileSync(join(PROJECT_ROOT, 'rendered', 'dev', 'monitoring', 'configmap_monitoring_prometheus.yaml'), 'utf8'));
const rendered = configMap.data['prometheus.yml'] as string;
const mounts = new Map([
  ['/etc/config', '/run/config'],
  ['/etc/secrets/litellm-metrics', '/run/secret'],
]);

describe('the local Prometheus configuration', () => {
  const local = localPrometheusConfig(rendered, [{ job: 'litellm', address: '127.0.0.1:4001' }], mounts);

  it('keeps only the local jobs, with a static target, the rendered path and key file made local', () => {
    expect(local.config.scrape_configs.map((job: any) => job.job_name)).toEqual(['litellm']);
    const [job] = local.config.scrape_configs;
    expect(job.static_configs).toEqual([{ targets: ['127.0.0.1:4001'], labels: { namespace: 'litellm' } }]);
    expect(job.kubernetes_sd_configs).toBeUndefined();
    expect(job.metrics_path).toBe('/metrics');
    expect(job.authorization.credentials_file).toBe('/run/secret/token');
  });

  it('keeps the OTLP settings and every rule file, drops the Alertmanager discovery, shortens the intervals', () => {
    expect(local.config.otlp).toEqual(parse(rendered).otlp);
    expect(local.ruleFiles).toEqual(parse(rendered).rule_files);
    expect(local.config.rule_files.every((file: string) => file.startsWith('/run/config/'))).toBe(true);
    expect(local.config.alerting).toBeUndefined();
    expect(local.config.global.scrape_interval).toBe(LOCAL_INTERVAL);
    expect(local.notes.some((note) => note.includes('dropped') && note.includes('kubelet'))).toBe(true);
  });

  it('refuses a path outside every volume', () => {
    expect(() => localPrometheusConfig(rendered, [{ job: 'litellm', address: '127.0.0.1:4001' }], new Map([['/etc/config', '/run/config']]))).toThrow(/in no volume/);
  });

  it('keeps the rendered flags (the OTLP receiver) and adds a 127.0.0.1 listen address', () => {
    const { args } = localPrometheusArgs(['--config.file=/etc/config/prometheus.yml', '--storage.tsdb.path=/data', '--web.enable-otlp-receiver'], '/run/p.yml', '/run/data', '127.0.0.1:9999');
    expect(args).toEqual(['--config.file=/run/p.yml', '--storage.tsdb.path=/run/data', '--web.enable-otlp-receiver', '--web.listen-address=127.0.0.1:9999']);
  });
});

describe('the observation check', () => {
  const expected = queriedMetrics(
    [
      { where: 'panel a', expr: 'sum(rate(litellm_spend_metric_total[5m]))' },
      { where: 'panel b', expr: 'sum(rate(litellm_deployment_cooled_down_total[5m]))' },
      { where: 'panel c', expr: 'sum(up{job="litellm"})' },
    ],
    (name) => name.startsWith('litellm_'),
  );

  it('passes when exactly the not-causable metrics are missing', () => {
    const missing = unobserved(expected, new Set(['litellm_spend_metric_total']));
    expect(observationProblems(missing, NOT_CAUSABLE, expected)).toEqual([]);
  });

  it('fails on a metric that was not stored and is not listed', () => {
    const missing = unobserved(expected, new Set());
    expect(observationProblems(missing, NOT_CAUSABLE, expected)).toEqual([expect.stringMatching(/^litellm_spend_metric_total was never stored .* panel a/)]);
  });

  it('fails on a listed metric that was stored after all', () => {
    const missing = unobserved(expected, new Set(['litellm_spend_metric_total', 'litellm_deployment_cooled_down_total']));
    expect(observationProblems(missing, NOT_CAUSABLE, expected)).toEqual([expect.stringMatching(/^litellm_deployment_cooled_down_total is listed .* Prometheus stored it/)]);
  });
});
