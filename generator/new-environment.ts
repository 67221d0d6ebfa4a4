/**
 * npm run env:new -- --name qa --from staging --account 123456789012 [--region R] [--tier T] [--vpc-cidr C]
 *
 * Writes environments/<name>.yaml and environments/<name>.outputs.yaml
 * (placeholders) from an existing environment; see scaffold-environment.ts.
 */
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseCommandLine } from './command-line.js';
import { ConfigError } from './config/errors.js';
import type { EnvConfig } from './config/schema.js';
import { scaffoldEnvironment } from './scaffold-environment.js';

const HELP = `Usage: npm run env:new -- --name NAME --from ENV --account ID [options]

Scaffolds environments/NAME.yaml from environments/ENV.yaml (new name, account,
Secrets Manager prefix dubai/NAME/, tailnet hostnames, a free VPC range) and
environments/NAME.outputs.yaml with placeholder outputs derived from it.

Options:
  --name NAME       the new environment (refused if it exists)
  --from ENV        the environment to start from, e.g. staging
  --account ID      the 12-digit AWS account id the stack goes to
  --region REGION   AWS region (default: the template's)
  --tier TIER       development, staging or production (default: the template's)
  --vpc-cidr CIDR   VPC range, /16 to /20 (default: the first free 10.x.0.0/16 of the account and region)
  --root DIR        repository root (default: the checkout this script is in)
  -h, --help        show this help
`;

const TIERS: readonly EnvConfig['tier'][] = ['development', 'staging', 'production'];

export function main(argv: string[]): number {
  const parsed = parseCommandLine(
    argv,
    {
      name: { type: 'string' },
      from: { type: 'string' },
      account: { type: 'string' },
      region: { type: 'string' },
      tier: { type: 'string' },
      'vpc-cidr': { type: 'string' },
      root: { type: 'string' },
    },
    HELP,
  );
  if ('exit' in parsed) return parsed.exit;
  const { values } = parsed;
  const missing = (['name', 'from', 'account'] as const).filter((key) => values[key] === undefined);
  if (missing.length > 0 || (values.tier !== undefined && !TIERS.includes(values.tier as EnvConfig['tier']))) {
    process.stderr.write(`${missing.length > 0 ? `missing --${missing.join(', --')}` : `--tier must be one of ${TIERS.join(', ')}`}\n\n${HELP}`);
    return 2;
  }
  const root = values.root ? resolve(values.root) : resolve(dirname(fileURLToPath(import.meta.url)), '..');
  try {
    const done = scaffoldEnvironment(root, {
      name: values.name!,
      from: values.from!,
      accountId: values.account!,
      ...(values.region ? { region: values.region } : {}),
      ...(values.tier ? { tier: values.tier as EnvConfig['tier'] } : {}),
      ...(values['vpc-cidr'] ? { vpcCidr: values['vpc-cidr'] } : {}),
    });
    process.stdout.write(
      [
        `wrote ${done.configFile} (from ${values.from}, VPC ${done.vpcCidr})`,
        `wrote ${done.outputsFile} (placeholders until \`npm run bootstrap -- --env ${values.name}\`)`,
        '',
        'Next: review the new file (node.amiId, sizes, models), then',
        `  npm run render          # creates rendered/${values.name}/, marked as rendered from placeholders`,
        `  git add environments/${values.name}.yaml environments/${values.name}.outputs.yaml rendered/${values.name} && git commit`,
        '',
      ].join('\n'),
    );
    return 0;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\n\nNothing was written.\n`);
    return 1;
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = main(process.argv.slice(2));
}
