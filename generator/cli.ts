/**
 * npm run render [-- --env NAME ...] [--check]
 *
 * Renders every environment (or the named ones) into rendered/<env>/. With
 * --check it writes nothing and exits 1 when rendered/ or the schema files are
 * out of date.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ConfigError, formatIssue } from './config/errors.js';
import { checkAcrossEnvironments, readEnvironmentSources } from './config/cross-environment-checks.js';
import { listEnvironments, loadEnvironment, locateIssues } from './config/load-environment.js';
import { Hydrator } from './charts/hydrate.js';
import { ChartError } from './charts/lock.js';
import { HelmError } from './charts/helm.js';
import { renderHydrated, RenderError, type RenderedEnvironment } from './render-environment.js';
import { schemaFiles } from './schema-files.js';
import { invalidRenderMessage } from './validate/render-hook.js';
import { placeholderNotice } from './environment-readme.js';
import { diffTree, isClean, readTree, renderedEnvironments, writeRendered, type TreeDiff } from './write-rendered.js';

const HELP = `Usage: npm run render -- [options]

Renders environments/<env>.yaml (+ <env>.outputs.yaml) into rendered/<env>/.

Options:
  --env NAME    render only this environment (repeatable); default: all
  --check       write nothing; exit 1 if rendered/ is out of date
  --root DIR    repository root (default: the checkout this script is in)
  -h, --help    show this help
`;

interface Options {
  envs: string[];
  check: boolean;
  root: string;
}

function parseOptions(argv: string[]): Options | undefined {
  const { values } = parseArgs({
    args: argv,
    options: {
      env: { type: 'string', multiple: true },
      check: { type: 'boolean', default: false },
      root: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) return undefined;
  const root = values.root ? resolve(values.root) : resolve(dirname(fileURLToPath(import.meta.url)), '..');
  return { envs: values.env ?? [], check: values.check ?? false, root };
}

function summarize(diff: TreeDiff): string {
  const parts = [
    diff.added.length > 0 ? `${diff.added.length} added` : '',
    diff.changed.length > 0 ? `${diff.changed.length} changed` : '',
    diff.removed.length > 0 ? `${diff.removed.length} removed` : '',
  ].filter(Boolean);
  return parts.length === 0 ? 'unchanged' : parts.join(', ');
}

function listFiles(diff: TreeDiff, limit = 10): string[] {
  const lines = [
    ...diff.added.map((file) => `    + ${diff.env}/${file}`),
    ...diff.changed.map((file) => `    ~ ${diff.env}/${file}`),
    ...diff.removed.map((file) => `    - ${diff.env}/${file}`),
  ];
  return lines.length > limit ? [...lines.slice(0, limit), `    … and ${lines.length - limit} more`] : lines;
}

export async function main(argv: string[]): Promise<number> {
  let options: Options | undefined;
  try {
    options = parseOptions(argv);
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n\n${HELP}`);
    return 2;
  }
  if (!options) {
    process.stdout.write(HELP);
    return 0;
  }
  const { root, check } = options;
  const environmentsDir = join(root, 'environments');
  const renderedDir = join(root, 'rendered');
  if (!existsSync(environmentsDir)) {
    process.stderr.write(`No environments/ folder under ${root}: run this from the repository (or pass --root).\n`);
    return 2;
  }
  const all = listEnvironments(environmentsDir);
  const names = options.envs.length > 0 ? options.envs : all;
  const unknown = names.filter((name) => !all.includes(name));
  if (unknown.length > 0) {
    process.stderr.write(`Unknown environment ${unknown.join(', ')}: expected one of ${all.join(', ')} (files environments/<name>.yaml).\n`);
    return 2;
  }

  // Load and render everything in memory before touching the disk; the charts of every
  // environment are hydrated concurrently (a bounded number of helm processes at once).
  const hydrator = new Hydrator({ root });
  const errors: string[] = [];
  const outcomes = await Promise.all(
    names.map(async (name) => {
      const started = performance.now();
      try {
        const environment = loadEnvironment(root, name);
        for (const warning of environment.warnings ?? []) process.stderr.write(`${formatIssue(warning)}\n`);
        const env = await renderHydrated(environment, hydrator);
        const placeholder = environment.outputs.source === 'placeholder' ? placeholderNotice(environment.config) : undefined;
        return { env, ms: performance.now() - started, ...(placeholder ? { placeholder } : {}) };
      } catch (error) {
        if (error instanceof ConfigError) {
          errors.push(new ConfigError(locateIssues(root, error.issues)).message);
          return undefined;
        }
        if (error instanceof RenderError || error instanceof ChartError || error instanceof HelmError) {
          errors.push(error.message);
          return undefined;
        }
        throw error;
      }
    }),
  );
  const rendered = outcomes.filter((outcome): outcome is { env: RenderedEnvironment; ms: number; placeholder?: string } => outcome !== undefined);
  if (errors.length === 0) {
    const across = checkAcrossEnvironments(readEnvironmentSources(root, all));
    if (across.length > 0) errors.push(new ConfigError(across).message);
  }
  if (errors.length > 0) {
    process.stderr.write(`${errors.join('\n\n')}\n\nNothing was written; rendered/ is unchanged.\n`);
    return 1;
  }

  const trees = new Map(rendered.map(({ env }) => [env.name, env.files]));

  // Validation hook: an invalid manifest is never written (nor reported as up to date).
  const known = new Map(
    rendered.map(({ env }) => [env.name, new Map(env.resources.filter(({ file }) => env.hydratedFiles.has(file)).map(({ file, manifest }) => [file, manifest as object]))]),
  );
  const invalid = invalidRenderMessage(root, trees, known);
  if (invalid) {
    process.stderr.write(invalid);
    return 1;
  }
  const stale = options.envs.length > 0 ? [] : renderedEnvironments(renderedDir).filter((name) => !all.includes(name));
  const schemas = [...schemaFiles()];

  if (check) {
    const diffs = [
      ...[...trees].map(([name, tree]) => diffTree(name, readTree(join(renderedDir, name)), tree)),
      ...stale.map((name) => diffTree(name, readTree(join(renderedDir, name)), new Map())),
    ];
    const staleSchemas = schemas.filter(([path, content]) => !existsSync(join(root, path)) || readFileSync(join(root, path), 'utf8') !== content);
    const outOfDate = diffs.filter((diff) => !isClean(diff));
    for (const diff of diffs) process.stdout.write(`${diff.env.padEnd(10)} ${isClean(diff) ? 'up to date' : `out of date: ${summarize(diff)}`}\n`);
    for (const diff of outOfDate) process.stdout.write(`${listFiles(diff).join('\n')}\n`);
    for (const [path] of staleSchemas) process.stdout.write(`${path} is out of date\n`);
    if (outOfDate.length > 0 || staleSchemas.length > 0) {
      process.stdout.write('\nrendered/ does not match the inputs. Run `npm run render` and commit the result with the change that caused it.\n');
      return 1;
    }
    return 0;
  }

  for (const [path, content] of schemas) {
    const target = join(root, path);
    if (!existsSync(target) || readFileSync(target, 'utf8') !== content) writeFileSync(target, content);
  }
  const diffs = writeRendered(renderedDir, trees, stale);
  for (const { env, ms, placeholder } of rendered) {
    const diff = diffs.find((item) => item.env === env.name)!;
    process.stdout.write(
      `${env.name.padEnd(10)} ${String(env.resources.length).padStart(4)} resources in ${env.components.length} folders  ${ms.toFixed(0).padStart(5)} ms  ${summarize(diff)}${placeholder ? `  (${placeholder})` : ''}\n`,
    );
  }
  for (const name of stale) process.stdout.write(`${name.padEnd(10)} removed (no environments/${name}.yaml)\n`);
  return 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
