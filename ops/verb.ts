/** One day-two operation of `npm run ops -- <verb>`: its name, help, options and what it does. */
import type { Options } from '../bootstrap/lib/args.js';
import type { EnvConfig } from '../generator/config/schema.js';
import type { RunOptions } from './plan.js';

export interface VerbContext {
  /** The repository root (the checkout, or --root). */
  root: string;
  /** The validated environment config (environments/<env>.yaml). */
  config: EnvConfig;
  /** The verb's own options and positionals, parsed strictly. */
  values: Record<string, string | boolean | (string | boolean)[] | undefined>;
  positionals: string[];
  /** --dry-run, --yes, where progress goes and how to ask. Pass to executePlan. */
  run: RunOptions;
}

export interface Verb {
  name: string;
  /** One line for `npm run ops -- --help`. */
  summary: string;
  /** Positional arguments and the verb's options, for `npm run ops -- <verb> --help`. */
  usage: string;
  options: Options;
  /** Returns an EXIT code; usually `executePlan(plan, context.run)`. */
  run(context: VerbContext): Promise<number>;
}
