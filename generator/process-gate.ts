/**
 * Bounds how many tool processes (helm, kubeconform) one command runs at
 * once: one per core plus one, so 100 environments never start 100 processes
 * on 2 cores, and a waiting task starts as soon as another ends.
 */
import { availableParallelism } from 'node:os';

export const DEFAULT_PROCESS_LIMIT = availableParallelism() + 1;

export class ProcessGate {
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  constructor(private readonly size = DEFAULT_PROCESS_LIMIT) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.active >= this.size) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.active++;
    try {
      return await task();
    } finally {
      this.active--;
      this.waiting.shift()?.();
    }
  }
}
