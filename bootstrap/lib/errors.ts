/** A bootstrap failure meant for a person: what went wrong and what to do. */
export class BootstrapError extends Error {
  constructor(
    message: string,
    readonly fix?: string,
  ) {
    super(message);
    this.name = 'BootstrapError';
  }

  /** The message and, on its own line, the fix. */
  describe(): string {
    return this.fix ? `${this.message}\n  fix: ${this.fix}` : this.message;
  }
}

/** Something that prints progress; the CLI writes to stdout, tests collect lines. */
export interface Reporter {
  info(line: string): void;
  warn(line: string): void;
}

export const consoleReporter: Reporter = {
  info: (line) => process.stdout.write(`${line}\n`),
  warn: (line) => process.stderr.write(`${line}\n`),
};

export function errorName(error: unknown): string {
  return (error as { name?: string } | undefined)?.name ?? '';
}
