/**
 * Where the node's software may come from (docs/node-software.md): a rule
 * over bootstrap/node/user-data.sh that every render runs, so a
 * `curl … | sh` cannot come back. It refuses:
 * - a download piped into a shell or into sudo (`| sh`, `| bash`, `| sudo …`),
 *   or run through process substitution or eval (`bash <(curl …)`);
 * - an apt source without `signed-by` (apt would trust it with every key
 *   of the system keyring) and `apt-key` (which adds a key to that keyring);
 * - `apt-get install` of tailscale without a pinned version.
 * Comment lines are skipped: the render drops them.
 */
import { formatIssue, type ConfigIssue } from '../../generator/config/errors.js';

const SOURCE_FILE = 'bootstrap/node/user-data.sh';

interface Rule {
  id: string;
  /** The column of the first offending match on the line, or undefined when the line is fine. */
  match(line: string): number | undefined;
  problem: string;
  fix: string;
}

const at = (match: RegExpExecArray | null): number | undefined => (match ? match.index + 1 : undefined);

const SHELLS = '(?:ba|da|z|k|fi)?sh';

export const SOFTWARE_SOURCE_RULES: readonly Rule[] = [
  {
    id: 'pipe-to-shell',
    match: (line) => at(new RegExp(`\\|\\s*(?:sudo\\b|(?:env\\s+)?${SHELLS}(?![\\w.-]))`).exec(line)) ?? at(new RegExp(`(?:\\b${SHELLS}|\\bsource|(?:^|[;&|]\\s*)\\.)\\s+<\\(|\\beval\\s+"?\\$\\((?:curl|wget)\\b`).exec(line)),
    problem: 'runs downloaded code without checking it (a pipe into a shell or sudo, process substitution or eval)',
    fix: 'install from a signed package repository with its key pinned (see tailscale_source), or download to a file and check a pinned sha256 before running it (see install_k3s)',
  },
  {
    id: 'apt-source-signed-by',
    match: (line) => (/>>?\s*\S*sources\.list\.d\/|\bdeb\s+(?:\[|https?:)/.test(line) && !/\[signed-by=/.test(line) ? at(/\S*sources\.list\.d\/|\bdeb\s/.exec(line)) : undefined),
    problem: 'adds an apt source without signed-by, so apt would accept its packages signed by any key it trusts',
    fix: 'write the source as `deb [signed-by=<keyring of this repository only>] <url> <suite> main`, the keyring checked against its pinned fingerprint',
  },
  {
    id: 'apt-key',
    match: (line) => at(/\bapt-key\b/.exec(line)),
    problem: 'uses apt-key, which makes a key trusted for every repository of the node',
    fix: 'keep the key in its own keyring under /usr/share/keyrings and name it with signed-by in that repository’s source',
  },
  {
    id: 'tailscale-version',
    match: (line) => (/\bapt-get\b.*\binstall\b/.test(line) ? at(/(?<![\w=\/-])tailscale(?!=[^\s"'])(?![\w-])/.exec(line)) : undefined),
    problem: 'installs Tailscale without a pinned version, so each node gets whatever the repository serves that day',
    fix: 'install "tailscale=$TAILSCALE_VERSION" (node.tailscale.version, moved by Renovate)',
  },
];

/** Every line of `source` that breaks a rule, as issues on bootstrap/node/user-data.sh. */
export function softwareSourceIssues(source: string): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  for (const [index, line] of source.split('\n').entries()) {
    if (/^\s*#/.test(line)) continue;
    for (const rule of SOFTWARE_SOURCE_RULES) {
      const column = rule.match(line);
      if (column !== undefined) issues.push({ file: SOURCE_FILE, path: rule.id, line: index + 1, column, problem: `${rule.problem}: ${line.trim()}`, fix: rule.fix });
    }
  }
  return issues;
}

/** The issues as one message (empty when there are none). */
export function formatSoftwareSourceIssues(issues: ConfigIssue[]): string {
  return issues.map(formatIssue).join('\n');
}
