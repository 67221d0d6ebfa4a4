/**
 * What every day-two verb shares: a plan of named steps that `--dry-run`
 * prints exactly and a real run executes with progress lines, a confirmation
 * before anything destructive, clean-up steps that run even when a step fails
 * (e.g. re-enabling Argo CD's automated sync), and exit codes that mean one
 * thing each.
 */
import type { Reporter } from '../bootstrap/lib/errors.js';

/** The exit codes of `npm run ops`. */
export const EXIT = {
  /** The operation finished (doctor: nothing found). */
  ok: 0,
  /** A step failed; the output names it and what was already done. */
  failed: 1,
  /** Bad command line. */
  usage: 2,
  /** The operator did not confirm a destructive plan: nothing was changed. */
  declined: 3,
  /** doctor: the environment was reached and something is wrong. */
  findings: 4,
} as const;

export interface Step {
  /** One line, imperative, naming the object: "scale deployment open-webui/open-webui to 0". */
  title: string;
  /** Changes or removes something that cannot simply be re-applied from git. */
  destructive?: boolean;
  run(): Promise<void>;
}

export interface Plan {
  /** What the operation is for, one line ("restore open-webui/data from backup-…"). */
  summary: string;
  /** What people will notice, printed before the steps and before confirmation ("everyone is logged out"). */
  consequences?: string[];
  steps: Step[];
  /** Run after the steps, whether they succeeded or not, in order. */
  finally?: Step[];
}

export interface Confirmer {
  /** Asks the operator; resolves true only on an explicit yes. */
  confirm(question: string): Promise<boolean>;
}

export interface RunOptions {
  dryRun: boolean;
  /** --yes: confirmation given on the command line (scripts, CI). */
  assumeYes: boolean;
  reporter: Reporter;
  confirmer: Confirmer;
}

export class StepFailed extends Error {
  constructor(
    readonly step: string,
    readonly index: number,
    override readonly cause: unknown,
  ) {
    super(`step ${index} failed: ${step}: ${describeError(cause)}`);
    this.name = 'StepFailed';
  }
}

export function describeError(error: unknown): string {
  const describe = (error as { describe?: unknown } | undefined)?.describe;
  return typeof describe === 'function' ? (describe as () => string).call(error) : error instanceof Error ? error.message : String(error);
}

function printPlan(plan: Plan, reporter: Reporter): void {
  reporter.info(plan.summary);
  for (const line of plan.consequences ?? []) reporter.info(`  ! ${line}`);
  plan.steps.forEach((step, index) => reporter.info(`  ${index + 1}. ${step.title}${step.destructive ? '  [destructive]' : ''}`));
  for (const step of plan.finally ?? []) reporter.info(`  always: ${step.title}`);
}

/**
 * Prints the plan; on --dry-run stops there. Otherwise asks for confirmation
 * when a step is destructive, runs the steps in order with "[i/n]" progress,
 * stops at the first failure, then runs every `finally` step (each one even if
 * an earlier one failed). Returns the exit code.
 */
export async function executePlan(plan: Plan, options: RunOptions): Promise<number> {
  const { reporter } = options;
  printPlan(plan, reporter);
  if (options.dryRun) {
    reporter.info('dry run: nothing was changed');
    return EXIT.ok;
  }
  if (plan.steps.some((step) => step.destructive) && !options.assumeYes) {
    const yes = await options.confirmer.confirm('This plan has destructive steps. Continue?');
    if (!yes) {
      reporter.warn('not confirmed: nothing was changed');
      return EXIT.declined;
    }
  }
  let failure: StepFailed | undefined;
  const total = plan.steps.length;
  for (const [index, step] of plan.steps.entries()) {
    reporter.info(`[${index + 1}/${total}] ${step.title}`);
    try {
      await step.run();
    } catch (error) {
      failure = new StepFailed(step.title, index + 1, error);
      reporter.warn(`✗ ${failure.message}`);
      if (index > 0) reporter.warn(`  already done: steps 1-${index}; not run: ${index + 2 <= total ? `steps ${index + 2}-${total}` : 'none'}`);
      break;
    }
  }
  let cleanupFailed = false;
  for (const step of plan.finally ?? []) {
    reporter.info(`[always] ${step.title}`);
    try {
      await step.run();
    } catch (error) {
      cleanupFailed = true;
      reporter.warn(`✗ clean-up failed: ${step.title}: ${describeError(error)} — do it by hand`);
    }
  }
  if (failure || cleanupFailed) return EXIT.failed;
  reporter.info(`✓ ${plan.summary}`);
  return EXIT.ok;
}
