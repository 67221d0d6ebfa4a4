/**
 * The pull-request loop as people feel it: each step is the command people
 * type, timed from process start to exit (npm and Node start-up included),
 * printed beside the README's claim and the target on 2 idle cores with
 * warm caches. The full suite takes minutes, so it runs only when asked:
 * `--full-warm` (this checkout, tools installed) and `--full-cold` (a fresh
 * clone with an empty tool cache; Go's and pip's per-user caches stay warm).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface LoopStep {
  name: string;
  command: string[];
  targetMs: number;
  /** What the README claimed before this measurement, if it claimed anything. */
  claimMs?: number;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

export interface LoopResult {
  step: LoopStep;
  ms: number;
  status: number;
}

export function loopSteps(root: string): LoopStep[] {
  return [
    { name: 'pre-commit hook (nothing staged)', command: ['sh', '.husky/pre-commit'], targetMs: 1_500 },
    { name: 'npm run render -- --check', command: ['npm', 'run', '-s', 'render', '--', '--check'], targetMs: 700, claimMs: 735 },
    { name: 'npm run validate', command: ['npm', 'run', '-s', 'validate'], targetMs: 1_000, claimMs: 1_034 },
    { name: 'npm run diff -- --base HEAD', command: ['npm', 'run', '-s', 'diff', '--', '--base', 'HEAD'], targetMs: 1_000 },
    { name: 'npm run test:fast', command: ['npm', 'run', '-s', 'test:fast'], targetMs: 20_000 },
  ].map((step) => ({ ...step, cwd: root }));
}

export function fullSuiteSteps(root: string, options: { warm: boolean; cold: boolean }): { steps: LoopStep[]; cleanup: () => void } {
  const steps: LoopStep[] = [];
  const scratch: string[] = [];
  if (options.warm) steps.push({ name: 'npm test (warm tools)', command: ['npm', 'test'], targetMs: 240_000, cwd: root });
  if (options.cold) {
    const dir = mkdtempSync(join(tmpdir(), 'dubai-hub-bench-cold-'));
    scratch.push(dir);
    const clone = join(dir, 'clone');
    execFileSync('git', ['clone', '-q', root, clone]);
    execFileSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: clone, stdio: 'ignore' });
    const env = { ...process.env, DUBAI_HUB_TOOL_CACHE: join(dir, 'tool-cache') };
    steps.push({ name: 'npm test (fresh clone, cold tools)', command: ['npm', 'test'], targetMs: 60 * 60_000, cwd: clone, env });
  }
  return { steps, cleanup: () => scratch.forEach((dir) => rmSync(dir, { recursive: true, force: true })) };
}

export function runStep(step: LoopStep): LoopResult {
  const started = performance.now();
  const result = spawnSync(step.command[0]!, step.command.slice(1), { cwd: step.cwd, env: step.env ?? process.env, stdio: 'ignore' });
  return { step, ms: performance.now() - started, status: result.status ?? -1 };
}

const seconds = (ms: number) => (ms >= 10_000 ? `${(ms / 1000).toFixed(0)} s` : `${(ms / 1000).toFixed(2)} s`);

export function loopTable(results: LoopResult[]): string[] {
  const lines = [`  ${'step'.padEnd(38)} ${'measured'.padStart(9)} ${'target'.padStart(8)} ${'× target'.padStart(9)} ${'README'.padStart(8)}  exit`];
  for (const { step, ms, status } of results) {
    lines.push(
      `  ${step.name.padEnd(38)} ${seconds(ms).padStart(9)} ${seconds(step.targetMs).padStart(8)} ${(ms / step.targetMs).toFixed(2).padStart(9)} ${(step.claimMs === undefined ? '-' : seconds(step.claimMs)).padStart(8)}  ${status}`,
    );
  }
  return lines;
}
