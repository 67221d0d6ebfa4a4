/**
 * The per-environment report of the cluster test (Markdown, one file per
 * environment): what was applied in which order and mode, each warning and why
 * it was allowed, each workload's Pods, what was not covered, and failures.
 */
import type { ControlPlaneVersions } from './binaries.js';
import { K3S_DEFAULT_APISERVER_FLAGS } from './control-plane.js';
import { USER_DATA } from './k3s-node-config.js';
import { displayFile } from './plan.js';
import type { EnvironmentReport } from './run-environment.js';

export interface NotRun {
  what: string;
  why: string;
}

export function formatReport(report: EnvironmentReport, versions: ControlPlaneVersions, root: string, notRun: NotRun[]): string {
  const lines: string[] = [];
  const status = report.failures.length === 0 ? 'PASSED' : `FAILED (${report.failures.length})`;
  lines.push(`# Cluster test: ${report.env} — ${status}`, '');
  lines.push(`Control plane: kube-apiserver, kube-controller-manager, kubectl ${versions.kubernetes}, etcd ${versions.etcd}, on 127.0.0.1.`);
  lines.push(`API server: the default admission chain (PodSecurity included) with K3s's ${K3S_DEFAULT_APISERVER_FLAGS.join(' ')}, and the node's flags from ${USER_DATA}: ${report.node?.apiserverFlags.join(' ') ?? '(not started)'}; controller manager: ${report.node?.controllerManagerFlags.join(' ') || '(none)'}.`);
  for (const skipped of report.node?.skipped ?? []) lines.push(`Not passed: ${skipped.flag} (${skipped.why}).`);
  lines.push(`Times: start ${report.seconds.start.toFixed(1)} s, apply ${report.seconds.apply.toFixed(1)} s, Pods ${report.seconds.workloads.toFixed(1)} s, total ${report.seconds.total.toFixed(1)} s. Logs: ${displayFile(report.logs, root)}/`, '');
  if (report.failures.length > 0) {
    lines.push('## Failures', '');
    for (const failure of report.failures) lines.push(`- ${failure}`);
    lines.push('');
  }
  lines.push('## Applied', '', '| stage | Application | sync phase | mode | file | resources | result |', '| --- | --- | --- | --- | --- | --- | --- |');
  for (const outcome of report.outcomes) {
    const result = !outcome.ok ? 'REFUSED' : outcome.step.dryRunOnly ? 'accepted (server dry run)' : 'applied';
    lines.push(`| ${outcome.stage} | ${outcome.step.app} | ${outcome.step.phase} | ${outcome.step.mode} | ${displayFile(outcome.step.file, root)} | ${outcome.step.resources.join('<br>')} | ${result} |`);
  }
  const warnings = new Map<string, { text: string; allowedBecause?: string; files: string[] }>();
  for (const outcome of report.outcomes) {
    for (const warning of outcome.warnings) {
      const key = `${warning.text}\n${warning.allowedBecause ?? ''}`;
      const entry = warnings.get(key) ?? { text: warning.text, ...(warning.allowedBecause ? { allowedBecause: warning.allowedBecause } : {}), files: [] };
      entry.files.push(displayFile(outcome.step.file, root));
      warnings.set(key, entry);
    }
  }
  lines.push('', '## Admission warnings', '');
  if (warnings.size === 0) lines.push('None.');
  for (const { text, ...entry } of warnings.values()) {
    lines.push(`- ${text} — ${entry.allowedBecause ? `allowed: ${entry.allowedBecause}` : 'NOT ALLOWED'} (${entry.files.length} file${entry.files.length === 1 ? '' : 's'}: ${entry.files.join(', ')})`);
  }
  lines.push('', '## Pods created by the controllers', '', '| workload | expected | created | FailedCreate seen (a retry may have created the Pod later) |', '| --- | --- | --- | --- |');
  for (const workload of report.workloads) {
    lines.push(`| ${workload.kind} ${workload.namespace}/${workload.name} | ${workload.expected} | ${workload.pods.length}${workload.ok ? '' : ' (FAILED)'} | ${workload.failedCreate.join('<br>') || '-'} |`);
  }
  const dryRuns = report.outcomes.filter((outcome) => outcome.step.dryRunOnly);
  const charts = report.plan.apps.filter((app) => app.charts.length > 0);
  lines.push('', '## Not covered', '');
  for (const outcome of dryRuns) lines.push(`- ${displayFile(outcome.step.file, root)}: ${outcome.step.dryRunOnly}`);
  for (const app of charts) lines.push(`- Application ${app.name}: Helm chart ${app.charts.join(', ')} is not hydrated into rendered/, so its resources were not applied`);
  for (const item of notRun) lines.push(`- ${item.what}: ${item.why}`);
  lines.push('- No kubelet, scheduler or container runtime: Pods are created and admitted, never scheduled or started; the Longhorn and Tailscale controllers do not run.');
  return `${lines.join('\n')}\n`;
}
