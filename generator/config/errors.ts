/**
 * Errors for people: every problem names the file, the field path, what was
 * expected and how to fix it, and where possible the line and column.
 */

export interface ConfigIssue {
  /** Path of the file, relative to the repository root. */
  file: string;
  /** Field path such as `litellm.models[1].apiKeySecret`; empty for the whole file. */
  path: string;
  line?: number;
  column?: number;
  /** What is wrong, in one sentence. */
  problem: string;
  /** What the field should hold. */
  expected?: string;
  /** What to change. */
  fix?: string;
  /** A warning names a risk but does not stop the render; anything else is an error. */
  severity?: 'warning';
}

export class ConfigError extends Error {
  constructor(readonly issues: ConfigIssue[]) {
    super(formatIssues(issues));
    this.name = 'ConfigError';
  }
}

export function formatIssue(issue: ConfigIssue): string {
  const where = issue.line === undefined ? issue.file : `${issue.file}:${issue.line}:${issue.column ?? 1}`;
  const lines = [`${where}: ${issue.severity === 'warning' ? 'warning: ' : ''}${issue.path === '' ? '(file)' : issue.path}: ${issue.problem}`];
  if (issue.expected) lines.push(`  expected: ${issue.expected}`);
  if (issue.fix) lines.push(`  fix: ${issue.fix}`);
  return lines.join('\n');
}

export function formatIssues(issues: ConfigIssue[]): string {
  const noun = issues.length === 1 ? 'problem' : 'problems';
  return `${issues.length} ${noun} in the environment config:\n${issues.map(formatIssue).join('\n')}`;
}

/** `['litellm', 'models', 1, 'name']` → `litellm.models[1].name` */
export function formatPath(segments: readonly (string | number)[]): string {
  let out = '';
  for (const segment of segments) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else out += out === '' ? segment : `.${segment}`;
  }
  return out;
}
