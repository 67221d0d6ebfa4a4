/**
 * The step list of one run: every step passes, fails or is skipped with its
 * reason (a skipped step never counts as passed), printed as it happens and
 * written as report.md and report.json beside the logs.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export type Outcome = 'passed' | 'failed' | 'skipped';

export interface StepResult {
  name: string;
  outcome: Outcome;
  seconds: number;
  detail: string;
}

export class Report {
  readonly steps: StepResult[] = [];
  private readonly started = Date.now();
  constructor(readonly dir: string, readonly env: string) {}

  log(line: string): void {
    console.log(`  ${line}`);
  }

  /** Runs a step; a thrown error fails it (and the run). A string result, or a result's `detail`, is the detail line. */
  async step<T>(name: string, body: () => Promise<T> | T): Promise<T | undefined> {
    const started = Date.now();
    console.log(`▶ ${name}`);
    try {
      const value = await body();
      const detail = typeof value === 'string' ? value : typeof (value as { detail?: unknown })?.detail === 'string' ? (value as { detail: string }).detail : '';
      this.record({ name, outcome: 'passed', seconds: (Date.now() - started) / 1000, detail });
      return value;
    } catch (error) {
      this.record({ name, outcome: 'failed', seconds: (Date.now() - started) / 1000, detail: (error as Error).stack ?? String(error) });
      return undefined;
    }
  }

  skip(name: string, reason: string): void {
    console.log(`▶ ${name}`);
    this.record({ name, outcome: 'skipped', seconds: 0, detail: reason });
  }

  /** A step that cannot run because an earlier one failed: a failure, never a skip. */
  blocked(name: string, by: string): void {
    console.log(`▶ ${name}`);
    this.record({ name, outcome: 'failed', seconds: 0, detail: `not run: ${by} failed` });
  }

  private record(result: StepResult): void {
    this.steps.push(result);
    const mark = result.outcome === 'passed' ? '✓' : result.outcome === 'failed' ? '✗' : '-';
    const first = result.detail.split('\n')[0];
    console.log(`${mark} ${result.name} (${result.outcome}, ${result.seconds.toFixed(1)} s)${first ? `: ${result.outcome === 'failed' ? result.detail : first}` : ''}`);
  }

  get failed(): number {
    return this.steps.filter((s) => s.outcome === 'failed').length;
  }

  write(extra: { overrides: string[]; logs: string }): string {
    const count = (o: Outcome) => this.steps.filter((s) => s.outcome === o).length;
    const seconds = Math.round((Date.now() - this.started) / 1000);
    const lines = [
      `# System test report: ${this.env}`,
      '',
      `${count('passed')} passed, ${count('failed')} failed, ${count('skipped')} skipped in ${seconds} s. Logs: ${extra.logs}`,
      '',
      '| step | outcome | s | detail |',
      '| --- | --- | --- | --- |',
      ...this.steps.map((s) => `| ${s.name} | ${s.outcome} | ${s.seconds.toFixed(1)} | ${s.detail.split('\n')[0]!.replace(/\|/g, '\\|').slice(0, 300)} |`),
      '',
      '## Overrides of the rendered configuration',
      '',
      ...extra.overrides.map((o) => `- ${o}`),
      '',
    ];
    writeFileSync(join(this.dir, 'report.md'), lines.join('\n'));
    writeFileSync(join(this.dir, 'report.json'), JSON.stringify({ env: this.env, seconds, steps: this.steps, overrides: extra.overrides }, null, 2));
    console.log(`\n${count('passed')} passed, ${count('failed')} failed, ${count('skipped')} skipped in ${seconds} s; report ${join(this.dir, 'report.md')}`);
    return join(this.dir, 'report.md');
  }
}
