/**
 * The shared start of every command: parse the options strictly, print the
 * help on -h, and print the error with the help (exit 2) on a bad option.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';

type Options = NonNullable<ParseArgsConfig['options']>;
type Values<O extends Options> = ReturnType<typeof parseArgs<{ args: string[]; options: O; strict: true }>>['values'];

/**
 * The option values (and, with `allowPositionals`, the other arguments), or
 * the exit code when the command should stop (help shown: 0, bad option: 2).
 */
export function parseCommandLine<O extends Options>(
  argv: string[],
  options: O,
  help: string,
  errorPrefix = '',
  { allowPositionals = false }: { allowPositionals?: boolean } = {},
): { values: Values<O>; positionals: string[] } | { exit: number } {
  let values: Values<O>;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({ args: argv, options: { ...options, help: { type: 'boolean', short: 'h', default: false } }, strict: true, allowPositionals }) as {
      values: Values<O>;
      positionals: string[];
    });
  } catch (error) {
    process.stderr.write(`${errorPrefix}${(error as Error).message}\n\n${help}`);
    return { exit: 2 };
  }
  if ((values as { help?: boolean }).help) {
    process.stdout.write(help);
    return { exit: 0 };
  }
  return { values, positionals };
}
