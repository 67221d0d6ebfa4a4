/** Command-line parsing shared by the scripts: --help text, and people's errors for bad options. */
import { parseArgs, type ParseArgsConfig } from 'node:util';

export type Options = NonNullable<ParseArgsConfig['options']>;

export class UsageError extends Error {}

export function parseCommandLine<T extends Options>(argv: string[], options: T, allowPositionals = false) {
  try {
    return parseArgs({ args: argv, options, strict: true, allowPositionals });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

/** Runs a script's main and maps errors to exit codes: 0 ok, 1 failure, 2 usage. */
export async function runMain(help: string, main: () => Promise<number>): Promise<void> {
  try {
    process.exitCode = await main();
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`${error.message}\n\n${help}`);
      process.exitCode = 2;
      return;
    }
    const described = typeof (error as { describe?: unknown }).describe === 'function' ? (error as { describe(): string }).describe() : (error as Error).message;
    process.stderr.write(`\nError: ${described}\n`);
    process.exitCode = 1;
  }
}
