/**
 * npm run ops -- <verb> --env NAME [--dry-run] [--yes] [verb options]
 *
 * The day-two operations (docs/operations.md). Every verb prints its plan;
 * --dry-run stops there; destructive plans ask for the environment's name
 * (or take --yes). Exit codes: 0 done, 1 a step failed, 2 usage, 3 not
 * confirmed (nothing changed), 4 doctor found something.
 */
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseCommandLine, UsageError, type Options } from '../bootstrap/lib/args.js';
import { loadConfig } from '../bootstrap/lib/environment.js';
import { consoleReporter, type Reporter } from '../bootstrap/lib/errors.js';
import { terminalConfirmer } from './confirm.js';
import { describeError, EXIT, type Confirmer } from './plan.js';
import type { Verb } from './verb.js';
import { VERBS } from './verbs/index.js';

const COMMON: Options = {
  env: { type: 'string' },
  'dry-run': { type: 'boolean', default: false },
  yes: { type: 'boolean', default: false },
  root: { type: 'string' },
  help: { type: 'boolean', short: 'h', default: false },
};

const COMMON_HELP = `Common options:
  --env NAME    environment (environments/NAME.yaml)
  --dry-run     print exactly what would be done, change nothing
  --yes         confirm destructive steps without asking (scripts)
  --root DIR    repository root (default: this checkout)
  -h, --help    show this help

Exit codes: 0 done, 1 a step failed, 2 usage, 3 not confirmed (nothing changed), 4 doctor found something.
`;

export function overallHelp(verbs: Verb[]): string {
  const width = Math.max(0, ...verbs.map((verb) => verb.name.length));
  const lines = verbs.map((verb) => `  ${verb.name.padEnd(width)}  ${verb.summary}`);
  return `Usage: npm run ops -- <verb> --env NAME [--dry-run] [--yes] [options]

Verbs:
${lines.join('\n') || '  (none)'}

${COMMON_HELP}
See docs/operations.md for the runbook of each verb.
`;
}

export function verbHelp(verb: Verb): string {
  return `Usage: npm run ops -- ${verb.name} --env NAME ${verb.usage}\n\n${verb.summary}\n\n${COMMON_HELP}`;
}

export interface CliDeps {
  verbs?: Verb[];
  reporter?: Reporter;
  confirmer?: (environment: string) => Confirmer;
  stdout?: (text: string) => void;
  stderr?: (text: string) => void;
}

/** Runs the command line; never throws, returns the exit code. */
export async function main(argv: string[], deps: CliDeps = {}): Promise<number> {
  const verbs = deps.verbs ?? VERBS;
  const stdout = deps.stdout ?? ((text: string) => process.stdout.write(text));
  const stderr = deps.stderr ?? ((text: string) => process.stderr.write(text));
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    (name ? stdout : stderr)(overallHelp(verbs));
    return name ? EXIT.ok : EXIT.usage;
  }
  const verb = verbs.find((candidate) => candidate.name === name);
  if (!verb) {
    stderr(`unknown verb "${name}"\n  fix: use one of: ${verbs.map((candidate) => candidate.name).join(', ') || '(none)'}\n\n${overallHelp(verbs)}`);
    return EXIT.usage;
  }
  let parsed: ReturnType<typeof parseCommandLine>;
  try {
    parsed = parseCommandLine(rest, { ...COMMON, ...verb.options }, true);
    if (parsed.values.help) {
      stdout(verbHelp(verb));
      return EXIT.ok;
    }
    if (typeof parsed.values.env !== 'string') throw new UsageError('--env is required');
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    stderr(`${error.message}\n\n${verbHelp(verb)}`);
    return EXIT.usage;
  }
  const { values, positionals } = parsed;
  const env = values.env as string;
  const root = typeof values.root === 'string' ? resolve(values.root) : resolve(dirname(fileURLToPath(import.meta.url)), '..');
  try {
    const config = loadConfig(root, env);
    const reporter = deps.reporter ?? consoleReporter;
    const confirmer = (deps.confirmer ?? ((environment) => terminalConfirmer(environment, process.stdin, process.stdout)))(env);
    return await verb.run({
      root,
      config,
      values,
      positionals,
      run: { dryRun: values['dry-run'] === true, assumeYes: values.yes === true, reporter, confirmer },
    });
  } catch (error) {
    if (error instanceof UsageError) {
      stderr(`${error.message}\n\n${verbHelp(verb)}`);
      return EXIT.usage;
    }
    stderr(`\nError: ${describeError(error)}\n`);
    return EXIT.failed;
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = await main(process.argv.slice(2));
}
