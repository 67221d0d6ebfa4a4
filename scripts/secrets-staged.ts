/**
 * npm run -s secrets:staged — the pre-commit secrets scan: secretlint's
 * recommended rules and the repository's provider-key rule
 * (generator/secrets/) over the staged content (what the commit will hold, not
 * the working tree) of files added, copied or modified in the index. Exits 1
 * and names file:line:column and the rule for every finding.
 */
import { lintSource } from '@secretlint/core';
import { rules as recommended } from '@secretlint/secretlint-rule-preset-recommend';
import { stagedBlob, stagedFiles } from './staged-index.js';
import { providerKeysRule, REPLACED_PRESET_RULES } from '../generator/secrets/secretlint-rule.js';

export interface Finding {
  file: string;
  line: number;
  column: number;
  rule: string;
  message: string;
}

/**
 * Options of preset rules. The one allowance: a PEM block whose body is a
 * `<placeholder>` (External Secrets documents the JSON shape of a credential
 * that way in its CRDs' descriptions); it holds no key material.
 */
const RULE_OPTIONS: Record<string, Record<string, unknown>> = {
  '@secretlint/secretlint-rule-privatekey': { allows: ['/-----BEGIN [A-Z ]*PRIVATE KEY-----(\\\\n|\\s)*<[a-z-]+>(\\\\n|\\s)*-----END [A-Z ]*PRIVATE KEY-----/'] },
};

/** The recommended preset's rules, less those the provider-key rule replaces (a preset cannot switch its own rules off in lintSource), and that rule. */
const RULES = [...recommended.filter((rule) => !(REPLACED_PRESET_RULES as readonly string[]).includes(rule.meta.id)), providerKeysRule].map((rule) => ({
  id: rule.meta.id,
  rule,
  ...(RULE_OPTIONS[rule.meta.id] ? { options: RULE_OPTIONS[rule.meta.id] } : {}),
}));

/** Scans one whole text (comments included) with the recommended rules and the provider-key rule. */
export async function scan(file: string, content: string): Promise<Finding[]> {
  const result = await lintSource({
    source: { filePath: file, content, contentType: 'text' },
    options: { config: { rules: RULES }, maskSecrets: true, noPhysicFilePath: true },
  });
  return result.messages.map((message) => ({ file, line: message.loc.start.line, column: message.loc.start.column + 1, rule: message.ruleId, message: message.message }));
}

/** Scans the staged version of every staged text file; `files` counts the texts scanned. */
export async function scanStaged(cwd: string): Promise<{ files: number; findings: Finding[] }> {
  const findings: Finding[] = [];
  let files = 0;
  for (const file of stagedFiles(cwd)) {
    const blob = stagedBlob(cwd, file);
    if (blob.includes(0)) continue; // binary
    files += 1;
    findings.push(...(await scan(file, blob.toString('utf8'))));
  }
  return { files, findings };
}

/** Scans the staged files and reports to stderr; returns the exit code (1 when a secret was found). */
export async function reportStagedSecrets(cwd: string): Promise<number> {
  const { files, findings } = await scanStaged(cwd);
  for (const finding of findings) console.error(`${finding.file}:${finding.line}:${finding.column}: ${finding.message} [${finding.rule}]`);
  if (findings.length === 0) {
    console.error(`pre-commit: secrets: ${files} staged text file${files === 1 ? '' : 's'} scanned, no secret found.`);
    return 0;
  }
  console.error(
    `pre-commit: ${findings.length} secret${findings.length === 1 ? '' : 's'} in staged files. Remove ${findings.length === 1 ? 'it' : 'them'}, keep the value in AWS Secrets Manager and reference it by name, then stage again.`,
  );
  return 1;
}

if (process.argv[1]?.endsWith('secrets-staged.ts')) {
  process.exitCode = await reportStagedSecrets(process.cwd());
}
