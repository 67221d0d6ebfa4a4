/**
 * npm run diff -- --base <ref> [--markdown] [--patch] [--env NAME] [--max-chars N]
 *
 * Summarises how rendered/ in the working tree differs from rendered/ at a git
 * ref, per environment and Application folder. The pull-request comment
 * workflow runs the same command with --markdown.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseCommandLine } from '../command-line.js';
import { readTree, type Tree } from '../write-rendered.js';
import { compareRendered } from './compare.js';
import { formatMarkdown, formatText } from './format.js';
import { GitRefError, readTreeAtCommit, resolveCommit } from './git-tree.js';

const HELP = `Usage: npm run diff -- [options]

Summarises the difference between rendered/ in the working tree and rendered/
at a git ref: per environment, per Application folder, which resources were
added, changed, moved, renamed or removed.

Options:
  --base REF       git ref to compare with (default: origin/main)
  --markdown       print the pull-request comment (full diff collapsed)
  --patch          text mode: also print the unified diff
  --env NAME       only this environment (repeatable)
  --max-chars N    markdown: shorten the diffs so the comment stays under N characters
  --subtitle TEXT  markdown: extra text under the title
  --output FILE    write to FILE instead of standard output
  --root DIR       repository root (default: the checkout this script is in)
  -h, --help       show this help
`;

function filterEnvs(tree: Tree, envs: string[]): Tree {
  if (envs.length === 0) return tree;
  return new Map([...tree].filter(([path]) => envs.includes(path.split('/')[0]!)));
}

export function main(argv: string[]): number {
  const parsed = parseCommandLine(
    argv,
    {
      base: { type: 'string', default: 'origin/main' },
      markdown: { type: 'boolean', default: false },
      patch: { type: 'boolean', default: false },
      env: { type: 'string', multiple: true },
      'max-chars': { type: 'string' },
      subtitle: { type: 'string' },
      output: { type: 'string' },
      root: { type: 'string' },
    },
    HELP,
    'diff: ',
  );
  if ('exit' in parsed) return parsed.exit;
  const { values } = parsed;
  const maxChars = values['max-chars'] === undefined ? undefined : Number(values['max-chars']);
  if (maxChars !== undefined && !(Number.isInteger(maxChars) && maxChars > 0)) {
    process.stderr.write(`diff: --max-chars ${values['max-chars']}: expected a positive whole number of characters, e.g. --max-chars 60000\n`);
    return 2;
  }
  const root = values.root ? resolve(values.root) : resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
  const base = values.base!;
  const envs = values.env ?? [];
  try {
    const baseCommit = resolveCommit(root, base);
    const before = filterEnvs(readTreeAtCommit(root, baseCommit, 'rendered'), envs);
    const after = filterEnvs(existsSync(join(root, 'rendered')) ? readTree(join(root, 'rendered')) : new Map(), envs);
    const unknown = envs.filter((env) => ![...before.keys(), ...after.keys()].some((path) => path.startsWith(`${env}/`)));
    if (unknown.length > 0) {
      process.stderr.write(`diff: --env ${unknown.join(', ')}: no such environment under rendered/ in the working tree or at ${base}\n`);
      return 2;
    }
    const diff = compareRendered(before, after);
    const context = { base, baseCommit };
    const text = values.markdown
      ? formatMarkdown(diff, context, { ...(maxChars ? { maxChars } : {}), ...(values.subtitle ? { subtitle: values.subtitle } : {}) })
      : formatText(diff, context, values.patch);
    if (values.output) writeFileSync(values.output, text);
    else process.stdout.write(text);
    return 0;
  } catch (error) {
    if (error instanceof GitRefError) {
      process.stderr.write(`diff: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = main(process.argv.slice(2));
}
