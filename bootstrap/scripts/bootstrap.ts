/**
 * npm run bootstrap -- --env NAME [--yes] [--allow-replace LOGICAL_ID ...]
 *
 * Deploys rendered/<env>/bootstrap/ as the environment's CloudFormation stack
 * and writes environments/<env>.outputs.yaml.
 */
import { createInterface } from 'node:readline/promises';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UpdateTerminationProtectionCommand } from '@aws-sdk/client-cloudformation';
import { ConfigError } from '../../generator/config/errors.js';
import { isProduction } from '../template/database.js';
import { stackName as stackNameOf } from '../names.js';
import { checkAccount } from '../lib/account-guard.js';
import { parseCommandLine, runMain } from '../lib/args.js';
import { awsClients, type AwsClients } from '../lib/aws-clients.js';
import { confirmChangeSet, createChangeSet, destructiveChanges, discardChangeSet, formatChanges, losesQuorum, quorumCheck, refuseDataLoss, SERVER_INSTANCE, stackTags, summarizeChanges } from '../lib/change-set.js';
import { executeAndWait } from '../lib/deploy.js';
import { deployReplicaStack } from '../lib/replica-deploy.js';
import { loadConfig, readRenderedStack } from '../lib/environment.js';
import { BootstrapError, consoleReporter, type Reporter } from '../lib/errors.js';
import { readStackOutputs, toBootstrapOutputs, writeOutputsFile } from '../lib/outputs.js';
import { templateSource } from '../lib/template-upload.js';
import { describeServer, isLost, serverStates } from '../lib/server-health.js';
import type { Clock } from '../lib/polling.js';

export const HELP = `Usage: npm run bootstrap -- --env NAME [options]

Deploys the environment's AWS base (rendered/<env>/bootstrap/) as one
CloudFormation stack, then writes environments/<env>.outputs.yaml.

  1. checks with STS that your credentials are for the environment's account
     (with backups.replication: deploys the replica stack <stack>-replica in
     the replica region first, the same way, and passes its key's ARN on)
  2. creates a change set and prints it
  3. refuses to replace or delete Aurora, a bucket, a secret, the KMS key or
     the data volume unless you name it with --allow-replace, and always
     refuses to replace or remove more K3s servers at once than etcd can lose
  4. executes it after you confirm (or with --yes) and follows the events
  5. writes the stack outputs to environments/<env>.outputs.yaml

Options:
  --env NAME                 environment to bootstrap (environments/NAME.yaml)
  --yes                      execute without asking (CI)
  --allow-replace LOGICAL_ID allow replacing or deleting this protected
                             resource (repeatable; see the printed change set)
  --timeout-minutes N        stop following the stack after N minutes (60)
  --root DIR                 repository root (default: this checkout)
  -h, --help                 show this help

Credentials come from the usual AWS chain (AWS_PROFILE, SSO, environment).
`;

export interface BootstrapOptions {
  root: string;
  env: string;
  yes: boolean;
  allowReplace: string[];
  timeoutMs?: number;
  intervalMs?: number;
}

export interface BootstrapDeps {
  clients: AwsClients;
  reporter: Reporter;
  /** Asks a yes/no question; undefined when there is nobody to ask. */
  confirm?: (question: string) => Promise<boolean>;
  clock?: Clock;
  /** Clients of another region: the replica stack's (backups.replication). */
  clientsIn?: (region: string) => AwsClients;
}

export type BootstrapResult = { outcome: 'deployed' | 'no-changes' | 'declined'; outputsFile?: string };

export async function runBootstrap(options: BootstrapOptions, deps: BootstrapDeps): Promise<BootstrapResult> {
  const { clients, reporter } = deps;
  const config = loadConfig(options.root, options.env);
  const stackName = stackNameOf(config);
  const rendered = readRenderedStack(options.root, config);

  reporter.info(`Environment ${config.name} (${config.tier}): stack ${stackName} in account ${config.aws.accountId}, ${config.aws.region}`);
  const caller = await checkAccount(clients.sts, config);
  reporter.info(`✓ credentials are for account ${caller.account} (${caller.arn})`);

  // backups.replication: the replica stack first, so the buckets replicate into buckets that exist.
  let parameters = rendered.parameters;
  if (rendered.replicaTemplateBody !== undefined) {
    const region = config.backups.replication!.region;
    if (!deps.clientsIn) throw new BootstrapError(`environment ${config.name} replicates to ${region}, but no AWS clients for that region were given`, 'run npm run bootstrap (it makes them); a caller of runBootstrap passes clientsIn');
    const replica = await deployReplicaStack(config, rendered.replicaTemplateBody, options, { clients: deps.clientsIn(region), reporter, confirm: deps.confirm, clock: deps.clock });
    if (replica === 'declined') return { outcome: 'declined' };
    parameters = [...parameters, ...replica];
  }

  const template = await templateSource(clients.s3, config, rendered.templateBody, (line) => reporter.info(line));
  reporter.info('Creating a change set…');
  const plan = await createChangeSet(clients.cfn, {
    stackName,
    template,
    parameters,
    tags: stackTags(config),
    clock: deps.clock,
    intervalMs: options.intervalMs,
  });

  if (plan.kind === 'no-changes') {
    // The template matches, but a terminated server stays in the stack: "no changes" would re-create nothing.
    if (clients.ec2) {
      const lost = (await serverStates({ cfn: clients.cfn, ec2: clients.ec2 }, stackName, config)).filter(isLost);
      if (lost.length > 0) {
        throw new BootstrapError(
          [`stack ${stackName} matches the template, but ${lost.length === 1 ? 'a server instance is' : `${lost.length} server instances are`} gone, and CloudFormation does not re-create ${lost.length === 1 ? 'it' : 'them'} by itself:`, ...lost.map((server) => `  ${describeServer(server)}`)].join('\n'),
          `run \`npm run ops -- recover-node --env ${config.name} --server ${lost[0]!.server}\` (it gives the server a new generation, so the stack creates a new instance; see docs/operations.md)`,
        );
      }
    }
    reporter.info(`✓ no changes: stack ${stackName} already matches rendered/${config.name}/bootstrap/`);
    const outputsFile = await writeOutputs(options.root, config.name, stackName, deps);
    return { outcome: 'no-changes', outputsFile };
  }

  reporter.info(`Change set ${plan.changeSetName} (${plan.changeSetType === 'CREATE' ? 'creates the stack' : 'updates the stack'}): ${summarizeChanges(plan.changes)}`);
  for (const line of formatChanges(plan.changes)) reporter.info(line);

  const destructive = destructiveChanges(plan.changes);
  await refuseDataLoss(clients.cfn, stackName, plan, options.allowReplace, { subject: 'resources', intended: 'and backed up' });
  const quorum = quorumCheck(plan.changes, config.cluster.servers);
  if (losesQuorum(quorum)) {
    await discardChangeSet(clients.cfn, stackName, plan.changeSetName);
    throw new BootstrapError(
      [
        `refusing to replace or remove ${quorum.lost.length} of the ${quorum.before} K3s servers at once: etcd keeps its quorum only while at most ${quorum.tolerance} ${quorum.tolerance === 1 ? 'is' : 'are'} gone`,
        ...quorum.lost.map((change) => `  ${change.logicalId} would be ${change.action === 'Remove' ? 'REMOVED' : 'REPLACED'}${change.details.length > 0 ? ` (because of ${change.details.join(', ')})` : ''}`),
        'The change set was deleted; nothing was changed. --allow-replace does not override this.',
      ].join('\n'),
      'change one server per run: hold the others on their current AMI with cluster.serverAmiOverrides, or remove one server per run (see docs/high-availability.md)',
    );
  }
  const restarted = plan.changes.filter((change) => SERVER_INSTANCE.test(change.logicalId) && change.action === 'Modify' && change.replacement === 'False');
  if (quorum.before > 1 && restarted.length > 1) reporter.warn(`! ${restarted.length} servers may be stopped and started, one after another (${restarted.map((change) => change.logicalId).join(', ')})`);
  for (const change of destructive) reporter.warn(`! ${change.logicalId} will be ${change.action === 'Remove' ? 'deleted' : 'replaced'} (allowed with --allow-replace)`);
  const node = plan.changes.find((change) => change.type === 'AWS::EC2::Instance' && change.action === 'Modify');
  if (node && config.cluster.servers === 1) reporter.warn(`! the K3s node ${node.replacement === 'False' ? 'may be stopped and started' : 'will be REPLACED (a new cluster; restore etcd from S3)'} by this change`);

  if (!(await confirmChangeSet(clients.cfn, stackName, plan.changeSetName, `Execute this change set on ${stackName}? [y/N] `, { yes: options.yes, confirm: deps.confirm, reporter }))) {
    return { outcome: 'declined' };
  }

  const started = deps.clock?.now() ?? Date.now();
  const status = await executeAndWait(clients.cfn, stackName, plan.changeSetName, {
    reporter,
    clock: deps.clock,
    timeoutMs: options.timeoutMs,
    intervalMs: options.intervalMs,
  });
  reporter.info(`✓ ${stackName} ${status} in ${Math.round(((deps.clock?.now() ?? Date.now()) - started) / 1000)} s`);
  if (isProduction(config)) {
    await clients.cfn.send(new UpdateTerminationProtectionCommand({ StackName: stackName, EnableTerminationProtection: true }));
    reporter.info('✓ stack termination protection is on (production)');
  }
  const outputsFile = await writeOutputs(options.root, config.name, stackName, deps);
  return { outcome: 'deployed', outputsFile };
}

async function writeOutputs(root: string, envName: string, stackName: string, deps: BootstrapDeps): Promise<string> {
  const outputs = toBootstrapOutputs(stackName, await readStackOutputs(deps.clients.cfn, stackName));
  const file = writeOutputsFile(root, envName, outputs);
  deps.reporter.info(`✓ wrote ${file}; next: npm run render, then commit both`);
  return file;
}

async function askOnTerminal(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  try {
    return /^(y|yes)$/i.test((await rl.question(question)).trim());
  } finally {
    rl.close();
  }
}

export async function main(argv: string[]): Promise<number> {
  const { values } = parseCommandLine(argv, {
    env: { type: 'string' },
    yes: { type: 'boolean', default: false },
    'allow-replace': { type: 'string', multiple: true },
    'timeout-minutes': { type: 'string' },
    root: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  if (!values.env) {
    process.stderr.write(`--env is required\n\n${HELP}`);
    return 2;
  }
  const timeoutMinutes = values['timeout-minutes'] === undefined ? 60 : Number(values['timeout-minutes']);
  if (!Number.isFinite(timeoutMinutes) || timeoutMinutes <= 0) {
    process.stderr.write(`--timeout-minutes must be a positive number, not "${values['timeout-minutes']}"\n`);
    return 2;
  }
  const root = values.root ? resolve(values.root) : resolve(dirname(fileURLToPath(import.meta.url)), '../..');
  try {
    const config = loadConfig(root, values.env);
    const result = await runBootstrap(
      { root, env: values.env, yes: values.yes ?? false, allowReplace: values['allow-replace'] ?? [], timeoutMs: timeoutMinutes * 60_000 },
      { clients: awsClients({ region: config.aws.region }), clientsIn: (region) => awsClients({ region }), reporter: consoleReporter, confirm: process.stdin.isTTY ? askOnTerminal : undefined },
    );
    return result.outcome === 'declined' ? 1 : 0;
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      return 1;
    }
    throw error;
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await runMain(HELP, () => main(process.argv.slice(2)));
}
