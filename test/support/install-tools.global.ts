/**
 * Vitest global set-up of the slow lane: installs every tool the slow suites
 * run, once, before any test file starts, so no test spends its time-out on an
 * install. Each tool's cache entry is locked, so parallel runs wait for one another.
 */
import { installTools, summary } from '../../scripts/tools/install-tools.js';

export default function setup(): void {
  const steps = installTools(undefined, (line) => process.stdout.write(`tools: ${line}\n`));
  process.stdout.write(`tools: ${summary(steps)}\n`);
}
