/**
 * npm run validate [-- --env NAME ...] [--json] [--root DIR] [--gate NAME ...]
 *
 * Runs the validation gates over the committed rendered/ and prints a readable
 * report with a one-line summary (or, with --json, machine-readable findings
 * for CI annotations). Exits 1 when any gate finds an error.
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseCommandLine } from '../command-line.js';
import { formatFinding, type Gate } from './findings.js';
import { GATES, runValidation, type ValidationReport } from './run-validation.js';
import { REPO_ROOT } from './schemas.js';

const HELP = `Usage: npm run validate -- [options]

Validates rendered/<env>/ with kubeconform (strict; vendored Kubernetes schemas,
and for custom resources the CRDs the environment renders), ajv over the same
schemas, the policy rules, the secrets scan, the next-minor upgrade check and the
scanners (checkov, kube-score; accepted findings in generator/validate/scanner-allowlist.yaml).

Options:
  --env NAME    validate only this environment (repeatable); default: all
  --gate NAME   run only this gate (repeatable): ${GATES.join(', ')}
  --json        print the report as JSON (findings with file, line, path, message)
  --root DIR    repository root holding environments/ and rendered/ (default: this checkout)
  -h, --help    show this help
`;

export function formatReport(report: ValidationReport): string {
  const lines: string[] = [];
  const envs = report.environments.map((env) => `${env.env} (Kubernetes ${env.kubernetes}, ${env.resources} resources)`).join(', ');
  lines.push(`Validating rendered/: ${envs || 'no environments'}`, '');
  for (const gate of report.gates) {
    // A gate that looked at nothing is never "ok": it failed (an error says why) or was skipped (a note says why).
    const status = gate.errors > 0 ? 'FAIL' : gate.count === 0 ? 'skip' : gate.warnings > 0 ? 'warn' : 'ok  ';
    const counts = gate.errors + gate.warnings > 0 ? `, ${gate.errors} errors, ${gate.warnings} warnings` : '';
    lines.push(`  ${status}  ${gate.gate.padEnd(13)} ${gate.checked}${counts}  (${Math.round(gate.ms)} ms)`);
  }
  for (const note of report.notes) lines.push('', `note: ${note}`);
  if (report.findings.length > 0) {
    lines.push('', 'Findings (file:line · resource · field · message [rule]):');
    let gate: Gate | undefined;
    for (const finding of report.findings.sort((a, b) => GATES.indexOf(a.gate) - GATES.indexOf(b.gate))) {
      if (finding.gate !== gate) {
        gate = finding.gate;
        lines.push(`  ${gate}:`);
      }
      lines.push(`    ${finding.severity === 'warning' ? 'warning: ' : ''}${formatFinding(finding)}`);
    }
  }
  if (report.exceptions.length > 0) {
    lines.push('', 'Policy exceptions (allowed by annotation policy.dubai-hub.example/allow-<rule>):');
    for (const exception of report.exceptions) lines.push(`    ${exception.file} · ${exception.resource} · ${exception.rule} · ${exception.reason}`);
  }
  const errors = report.findings.filter((finding) => finding.severity === 'error').length;
  const warnings = report.findings.length - errors;
  lines.push(
    '',
    `validate: ${report.ok ? 'passed' : 'FAILED'} · ${report.resources} resources in ${report.environments.length} environment${report.environments.length === 1 ? '' : 's'} · ${errors} errors, ${warnings} warnings · ${report.exceptions.length} exceptions · ${(report.ms / 1000).toFixed(2)} s`,
  );
  return `${lines.join('\n')}\n`;
}

export async function main(argv: string[]): Promise<number> {
  const parsed = parseCommandLine(
    argv,
    {
      env: { type: 'string', multiple: true },
      gate: { type: 'string', multiple: true },
      json: { type: 'boolean', default: false },
      root: { type: 'string' },
    },
    HELP,
  );
  if ('exit' in parsed) return parsed.exit;
  const { values } = parsed;
  const unknownGates = (values.gate ?? []).filter((gate) => !(GATES as readonly string[]).includes(gate));
  if (unknownGates.length > 0) {
    process.stderr.write(`Unknown gate ${unknownGates.join(', ')}: expected one of ${GATES.join(', ')}\n`);
    return 2;
  }
  const report = await runValidation({
    root: values.root ? resolve(values.root) : REPO_ROOT,
    ...(values.env ? { envs: values.env } : {}),
    ...(values.gate ? { gates: values.gate as Gate[] } : {}),
    log: (line) => process.stderr.write(`${line}\n`),
  });
  process.stdout.write(values.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
  return report.ok ? 0 : 1;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then(
    (code) => (process.exitCode = code),
    (error: unknown) => {
      process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
