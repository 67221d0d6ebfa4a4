/**
 * `npm run tools [-- NAME ...]`: installs the project's tools (default: all)
 * ahead of the tests, one progress line per tool (name, version, size on
 * disk, time). Run again, it installs nothing and says so. The slow lane's
 * global set-up calls `installTools` once before its tests.
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PROJECT_TOOLS, projectTool, TOOLS_DIR } from './project-tools.js';
import { diskUsage, ensureCachedTool, toolCacheRoot } from './tool-cache.js';

export interface ToolProgress {
  name: string;
  version: string;
  installed: boolean;
  bytes: number;
  ms: number;
}

const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MiB`;

export function progressLine(step: ToolProgress): string {
  const what = step.installed ? `installed in ${(step.ms / 1000).toFixed(1)} s` : 'already installed';
  return `${step.name.padEnd(12)} ${step.version.padEnd(38)} ${mib(step.bytes).padStart(8)}  ${what}`;
}

/** Installs the named tools through the per-user cache and links them into `.tools/`. */
export function installTools(names: string[] = PROJECT_TOOLS.map((tool) => tool.name), log: (line: string) => void = () => {}): ToolProgress[] {
  return names.map((name) => {
    const tool = projectTool(name);
    const started = performance.now();
    const { dir, installed } = ensureCachedTool(tool, TOOLS_DIR);
    const step = { name, version: tool.version, installed, bytes: diskUsage(dir), ms: performance.now() - started };
    log(progressLine(step));
    return step;
  });
}

export function summary(steps: ToolProgress[]): string {
  const total = mib(steps.reduce((sum, step) => sum + step.bytes, 0));
  const fresh = steps.filter((step) => step.installed).length;
  const where = `${total} in ${toolCacheRoot()}, linked from .tools/`;
  return fresh === 0 ? `nothing to do: all ${steps.length} tools were already installed (${where})` : `installed ${fresh} of ${steps.length} tools (${where})`;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    const names = process.argv.slice(2);
    console.log(summary(installTools(names.length > 0 ? names : undefined, (line) => console.log(line))));
  } catch (error) {
    console.error(`tools: ${(error as Error).message}`);
    process.exitCode = 1;
  }
}
