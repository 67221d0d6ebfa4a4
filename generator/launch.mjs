// Runs a generator entry point (a TypeScript module exporting `main(argv)`)
// from an esbuild bundle cached in .tools/cache/. The bundle is rebuilt only
// when a file under generator/, bootstrap/ or scripts/, or the lock file, is newer than it, so a render
// starts in one Node process without compiling TypeScript on every run.
//
//   node generator/launch.mjs <entry> [args...]     e.g. entry "cli" → generator/cli.ts,
//                                                   "scripts/pre-commit" → scripts/pre-commit.ts
import { mkdirSync, readdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const [entry, ...args] = process.argv.slice(2);
if (!entry || !/^[a-z0-9/-]+$/.test(entry)) {
  process.stderr.write('usage: node generator/launch.mjs <entry> [args...]\n');
  process.exit(2);
}
const source = entry.startsWith('scripts/') ? join(root, `${entry}.ts`) : join(root, 'generator', `${entry}.ts`);
const bundle = join(root, '.tools', 'cache', `${entry.replaceAll('/', '-')}.mjs`);

function newest(dir) {
  let latest = 0;
  let items;
  try {
    items = readdirSync(dir, { withFileTypes: true });
  } catch {
    return -1;
  }
  for (const item of items) {
    const path = join(dir, item.name);
    latest = Math.max(latest, item.isDirectory() ? newest(path) : statSync(path).mtimeMs);
  }
  return latest;
}

function mtime(path) {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return -1;
  }
}

// The generator also bundles the CloudFormation sources under bootstrap/ and the scans under scripts/.
const inputs = Math.max(...['generator', 'bootstrap', 'scripts'].map((dir) => newest(join(root, dir))), mtime(join(root, 'package-lock.json')));
if (mtime(bundle) < inputs) {
  const { build } = await import('esbuild');
  mkdirSync(dirname(bundle), { recursive: true });
  const result = await build({
    entryPoints: [source],
    outfile: bundle,
    write: false,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    // Bundled CommonJS dependencies (cdk8s) call require().
    banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
    logLevel: 'warning',
    legalComments: 'none',
  });
  // Write then rename, so a concurrent run never imports a half-written bundle.
  const staging = `${bundle}.${process.pid}.tmp`;
  writeFileSync(staging, result.outputFiles[0].contents);
  renameSync(staging, bundle);
}
const module = await import(pathToFileURL(bundle).href);
const hasRoot = args.includes('--root');
process.exitCode = await module.main(hasRoot ? args : [...args, '--root', root]);
