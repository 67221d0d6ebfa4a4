/**
 * npm run secrets -- set --env NAME SECRET
 * npm run secrets -- list --env NAME
 *
 * Stores an LLM provider key, the SSO client secret or a Tailscale credential
 * in the environment's Secrets Manager secret. The value is read without echo
 * (or from a pipe) and never printed or logged.
 */
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DescribeSecretCommand, PutSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { STSClient } from '@aws-sdk/client-sts';
import type { EnvConfig } from '../../generator/config/schema.js';
import { MANUAL_SECRETS } from '../../generator/platform-names.js';
import { settableSecrets, type EnvironmentSecret } from '../names.js';
import { checkAccount } from '../lib/account-guard.js';
import { parseCommandLine, runMain, UsageError } from '../lib/args.js';
import { awsClients } from '../lib/aws-clients.js';
import { loadConfig } from '../lib/environment.js';
import { BootstrapError, consoleReporter, errorName, type Reporter } from '../lib/errors.js';
import { readHiddenLine, readPiped, type SecretInput } from '../lib/hidden-input.js';
import { checkSecretValue } from '../lib/secret-values.js';

export const HELP = `Usage:
  npm run secrets -- set --env NAME SECRET   store a value (asked for without echo, or piped)
  npm run secrets -- list --env NAME         show which hand-set secrets have a value;
                                             exits 1 while one is missing or EMPTY

SECRET is a name relative to the environment's secretsManager.prefix, e.g.
providers/openai, tailscale/node-auth-key, tailscale/operator-oauth (asks for
client_id and client_secret). Only secrets the environment references can be
set; generated ones (keys, passwords, the K3s token) are made by the stack.

Options:
  --env NAME    environment (environments/NAME.yaml)
  --root DIR    repository root (default: this checkout)
  -h, --help    show this help
`;

export function findSettable(config: EnvConfig, reference: string): EnvironmentSecret {
  const settable = settableSecrets(config);
  const secret = settable.find((candidate) => candidate.reference === reference || candidate.name === reference);
  if (!secret) {
    throw new BootstrapError(
      `${reference} is not a secret you set by hand in environment ${config.name}`,
      `use one of: ${settable.map((candidate) => candidate.reference).join(', ')}`,
    );
  }
  return secret;
}

export interface SecretsDeps {
  secrets: SecretsManagerClient;
  sts: STSClient;
  reporter: Reporter;
}

/** Stores `value` as the new current version of the secret. Never prints the value. */
export async function setSecret(config: EnvConfig, reference: string, value: string, deps: SecretsDeps): Promise<EnvironmentSecret> {
  const secret = findSettable(config, reference);
  checkSecretValue(secret.reference, value);
  await checkAccount(deps.sts, config);
  try {
    await deps.secrets.send(new PutSecretValueCommand({ SecretId: secret.name, SecretString: value }));
  } catch (error) {
    if (errorName(error) === 'ResourceNotFoundException') {
      throw new BootstrapError(`secret ${secret.name} does not exist yet`, `run \`npm run bootstrap -- --env ${config.name}\` first; the stack creates it empty`);
    }
    throw new BootstrapError(`could not store ${secret.name}: ${errorName(error) || 'error'}`, 'check that your role may call secretsmanager:PutSecretValue and use the stack key');
  }
  deps.reporter.info(`✓ stored a new value in ${secret.name}`);
  return secret;
}

export interface ListedSecret {
  /** Relative to secretsManager.prefix. */
  reference: string;
  name: string;
  /** true: has a current value; false: exists but EMPTY; undefined: missing (no such secret yet). */
  set: boolean | undefined;
}

const STATE = (set: boolean | undefined) => (set === undefined ? 'missing' : set ? 'set' : 'EMPTY');

/** Whether each hand-set secret has a value (versions only; values are never read), printed as a table. */
export async function listSecrets(config: EnvConfig, deps: SecretsDeps): Promise<ListedSecret[]> {
  await checkAccount(deps.sts, config);
  const result: ListedSecret[] = [];
  const rows: string[][] = [['state', 'secret', 'what']];
  for (const secret of settableSecrets(config)) {
    let set: boolean | undefined;
    try {
      const described = await deps.secrets.send(new DescribeSecretCommand({ SecretId: secret.name }));
      set = Object.values(described.VersionIdsToStages ?? {}).some((stages) => stages.includes('AWSCURRENT'));
    } catch (error) {
      if (errorName(error) !== 'ResourceNotFoundException') throw error;
    }
    rows.push([STATE(set), secret.name, secret.description]);
    result.push({ reference: secret.reference, name: secret.name, set });
  }
  const widths = [0, 1].map((column) => Math.max(...rows.map((row) => row[column]!.length)));
  for (const row of rows) deps.reporter.info(`  ${row[0]!.padEnd(widths[0]!)}  ${row[1]!.padEnd(widths[1]!)}  ${row[2]}`);
  return result;
}

/** Refuses (exit 1) while a secret the environment needs is missing or empty, naming the command for each. */
export function requireAllSet(config: EnvConfig, listed: ListedSecret[]): void {
  const unset = listed.filter((secret) => secret.set !== true);
  if (unset.length === 0) return;
  const missing = unset.some((secret) => secret.set === undefined);
  throw new BootstrapError(
    `${unset.length} of ${listed.length} secrets environment ${config.name} needs have no value: ${unset.map((secret) => `${secret.name} (${STATE(secret.set)})`).join(', ')}`,
    [
      ...(missing ? [`run \`npm run bootstrap -- --env ${config.name}\` first: the stack creates the missing ones empty; then`] : []),
      ...unset.map((secret) => `\`npm run secrets -- set --env ${config.name} ${secret.reference}\``),
    ].join('\n       '),
  );
}

/** Asks for the value: hidden on a terminal, else read from the pipe. */
export async function readValue(reference: string, input: SecretInput, output: NodeJS.WritableStream): Promise<string> {
  if (!input.isTTY) return readPiped(input);
  if (reference === MANUAL_SECRETS.tailscaleOAuth) {
    const clientId = await readHiddenLine(input, output as never, 'Tailscale OAuth client_id: ');
    const clientSecret = await readHiddenLine(input, output as never, 'Tailscale OAuth client_secret (not shown): ');
    return JSON.stringify({ client_id: clientId.trim(), client_secret: clientSecret.trim() });
  }
  return (await readHiddenLine(input, output as never, `Value for ${reference} (not shown): `)).trim();
}

export async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandLine(
    argv,
    { env: { type: 'string' }, root: { type: 'string' }, help: { type: 'boolean', short: 'h', default: false } },
    true,
  );
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const [command, reference, ...extra] = positionals;
  if (!values.env) throw new UsageError('--env is required');
  if (command !== 'set' && command !== 'list') throw new UsageError(`unknown command "${command ?? ''}": use set or list`);
  if (command === 'set' && (!reference || extra.length > 0)) throw new UsageError('set takes exactly one SECRET name');
  const root = values.root ? resolve(values.root) : resolve(dirname(fileURLToPath(import.meta.url)), '../..');
  const config = loadConfig(root, values.env);
  const clients = awsClients({ region: config.aws.region });
  const deps = { secrets: clients.secrets, sts: clients.sts, reporter: consoleReporter };
  if (command === 'list') {
    requireAllSet(config, await listSecrets(config, deps));
    return 0;
  }
  findSettable(config, reference!);
  const value = await readValue(reference!, process.stdin, process.stderr);
  await setSecret(config, reference!, value, deps);
  return 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await runMain(HELP, () => main(process.argv.slice(2)));
}
