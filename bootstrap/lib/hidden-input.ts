/**
 * Reads a secret without echoing it: from a terminal in raw mode (nothing is
 * printed back), or from piped standard input (e.g. a password manager).
 */
import type { Readable, Writable } from 'node:stream';
import { BootstrapError } from './errors.js';

export interface SecretInput extends Readable {
  isTTY?: boolean;
  setRawMode?: (mode: boolean) => unknown;
}

/** Prompts on `output` and reads one line from a terminal without echo. */
export function readHiddenLine(input: SecretInput, output: Writable, prompt: string): Promise<string> {
  return new Promise((resolveLine, reject) => {
    output.write(prompt);
    let value = '';
    const finish = (error?: Error) => {
      input.removeListener('data', onData);
      input.setRawMode?.(false);
      input.pause();
      output.write('\n');
      if (error) reject(error);
      else resolveLine(value);
    };
    const onData = (chunk: Buffer | string) => {
      for (const char of chunk.toString()) {
        if (char === '\r' || char === '\n') return finish();
        if (char === '\u0003') return finish(new BootstrapError('cancelled; nothing was stored'));
        if (char === '\u007f' || char === '\b') value = value.slice(0, -1);
        else value += char;
      }
    };
    input.setRawMode?.(true);
    input.on('data', onData);
    input.resume();
  });
}

/** Reads everything piped to standard input; one trailing newline is dropped. */
export async function readPiped(input: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of input) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}
