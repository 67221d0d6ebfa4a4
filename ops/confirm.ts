/** Confirmation on a terminal: the operator types the environment's name. Without a terminal, no is the answer. */
import { createInterface } from 'node:readline/promises';
import type { Readable, Writable } from 'node:stream';
import type { Confirmer } from './plan.js';

export function terminalConfirmer(environment: string, input: Readable & { isTTY?: boolean }, output: Writable): Confirmer {
  return {
    async confirm(question) {
      if (!input.isTTY) {
        output.write(`${question} There is no terminal to ask on; pass --yes to confirm.\n`);
        return false;
      }
      const lines = createInterface({ input, output });
      try {
        const answer = await lines.question(`${question} Type the environment name (${environment}) to confirm: `);
        return answer.trim() === environment;
      } finally {
        lines.close();
      }
    },
  };
}
