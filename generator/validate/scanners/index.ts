/**
 * The scanner gate of npm run validate: checkov (Kubernetes and
 * CloudFormation) and kube-score over the rendered environments, every
 * accepted finding in generator/validate/scanner-allowlist.yaml.
 */
import type { Finding } from '../findings.js';
import type { ManifestDoc } from '../manifests.js';
import { applyAllowlist, readAllowlist, type Allowlist, type ScannerFinding } from './allowlist.js';
import { checkovCloudFormation, checkovKubernetes } from './checkov.js';
import { kubeScore } from './kube-score.js';

export interface ScannerGateResult {
  findings: Finding[];
  /** What the scanners looked at, for the report line. */
  checked: string;
  count: number;
  /** Every scanner finding, before the allow-list (for the benchmark and tests). */
  scanned: ScannerFinding[];
  allowed: number;
}

export interface ScannerGateOptions {
  root: string;
  envs: readonly string[];
  /** Whether `envs` is every environment of the repository (then stale entries are errors). */
  complete: boolean;
  docs: readonly ManifestDoc[];
  allowlist?: Allowlist;
  log?: (line: string) => void;
}

export async function scannerGate(options: ScannerGateOptions): Promise<ScannerGateResult> {
  const log = options.log ?? (() => {});
  const list = options.allowlist ?? readAllowlist(options.root);
  log(`scanners: checkov (Kubernetes, CloudFormation) and kube-score over ${options.envs.join(', ')}`);
  // checkov's two runs are processes; kube-score (fast) runs while they work.
  const kubernetes = checkovKubernetes(options.root, options.envs, options.docs);
  const cloudFormation = checkovCloudFormation(options.root, options.envs);
  const scored = await kubeScore(options.root, options.envs, options.docs);
  log(`scanners: kube-score scored ${scored.objects} objects`);
  const [k8s, cfn] = await Promise.all([kubernetes, cloudFormation]);
  log(`scanners: checkov checked ${k8s.resources} Kubernetes and ${cfn.resources} CloudFormation resources`);
  const scanned = [...k8s.findings, ...cfn.findings, ...scored.findings];
  const result = applyAllowlist(list, scanned, { complete: options.complete, scanners: ['checkov', 'kube-score'] });
  return {
    findings: result.findings,
    checked: `checkov ${k8s.resources} Kubernetes + ${cfn.resources} CloudFormation resources, kube-score ${scored.objects} objects; ${scanned.length} findings, ${result.allowed} allowed by ${list.entries.length} entries`,
    count: k8s.resources + cfn.resources + scored.objects,
    scanned,
    allowed: result.allowed,
  };
}
