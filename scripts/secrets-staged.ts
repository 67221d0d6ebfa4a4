/**
 * npm run -s secrets:staged — the pre-commit secrets scan: secretlint's
 * recommended rules over the staged content (what the commit will hold, not
 * the working tree) of files added, copied or modified in the index. Exits 1
 * and names file:line:column and the rule for every finding.
 */
import { spawnSync } from 'node:child_process';
import { lintSource } from '@secretlint/core';
import { creator as recommended } from '@secretlint/secretlint-rule-preset-recommend';

export interface Finding {
  file: string;
  line: number;
  column: number;
  rule: string;
  message: string;
}

function git(args: string[], cwd: string): Buffer {
  const result = spawnSync('git', args, { cwd, maxBuffer: 256 * 1024 * 1024 });
  if (result.error || result.status !== 0) throw new Error(`git ${args.join(' ')}: ${result.error?.message ?? result.stderr.toString('utf8').trim()}`);
  return result.stdout;
}

/** Paths of staged files that were added, copied or modified. */
export function stagedFiles(cwd: string): string[] {
  return git(['diff', '--cached', '--name-only', '--diff-filter=ACM', '-z'], cwd).toString('utf8').split('\0').filter(Boolean);
}

/** Scans one text with the recommended rules. */
export async function scan(file: string, content: string): Promise<Finding[]> {
  const result = await lintSource({
    source: { filePath: file, content, contentType: 'text' },
    options: { config: { rules: [{ id: '@secretlint/secretlint-rule-preset-recommend', rule: recommended }] }, maskSecrets: true, noPhysicFilePath: true },
  });
  return result.messages.map((message) => ({ file, line: message.loc.start.line, column: message.loc.start.column + 1, rule: message.ruleId, message: message.message }));
}

/** Scans the staged version of every staged text file. */
export async function scanStaged(cwd: string): Promise<Finding[]> {
  const findings: Finding[] = [];
  for (const file of stagedFiles(cwd)) {
    const blob = git(['show', `:${file}`], cwd);
    if (blob.includes(0)) continue; // binary
    findings.push(...(await scan(file, blob.toString('utf8'))));
  }
  return findings;
}

if (process.argv[1]?.endsWith('secrets-staged.ts')) {
  const findings = await scanStaged(process.cwd());
  for (const finding of findings) console.error(`${finding.file}:${finding.line}:${finding.column}: ${finding.message} [${finding.rule}]`);
  if (findings.length > 0) {
    console.error(
      `pre-commit: ${findings.length} secret${findings.length === 1 ? '' : 's'} in staged files. Remove ${findings.length === 1 ? 'it' : 'them'}, keep the value in AWS Secrets Manager and reference it by name, then stage again.`,
    );
    process.exitCode = 1;
  }
}
