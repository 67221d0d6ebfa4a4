/**
 * The first step of `npm run bootstrap` in an environment with
 * backups.replication: deploy the replica stack (<stack>-replica, the replica
 * buckets and their KMS key) in the replica region, so the main stack's
 * buckets can replicate into buckets that exist, then hand the main stack
 * the replica key's ARN as its ReplicaKmsKeyArn parameter. The replica
 * template is small and always goes in the request itself (no upload bucket
 * in that region).
 */
import { UpdateTerminationProtectionCommand, type Parameter } from '@aws-sdk/client-cloudformation';
import type { EnvConfig } from '../../generator/config/schema.js';
import { REPLICA_OUTPUTS, replicaStackName } from '../names.js';
import { isProduction } from '../template/database.js';
import { REPLICA_KEY_PARAMETER } from '../template/replication.js';
import type { AwsClients } from './aws-clients.js';
import { confirmChangeSet, createChangeSet, formatChanges, refuseDataLoss, stackTags, summarizeChanges } from './change-set.js';
import { executeAndWait } from './deploy.js';
import { BootstrapError, type Reporter } from './errors.js';
import { readStackOutputs } from './outputs.js';
import type { Clock } from './polling.js';
import { TEMPLATE_BODY_LIMIT } from './template-upload.js';

export interface ReplicaDeployOptions {
  yes: boolean;
  allowReplace: string[];
  timeoutMs?: number;
  intervalMs?: number;
}

export interface ReplicaDeployDeps {
  /** Clients of the replica region. */
  clients: AwsClients;
  reporter: Reporter;
  confirm?: (question: string) => Promise<boolean>;
  clock?: Clock;
}

/** Deploys (or confirms) the replica stack; the main stack's extra parameters, or 'declined'. */
export async function deployReplicaStack(config: EnvConfig, templateBody: string, options: ReplicaDeployOptions, deps: ReplicaDeployDeps): Promise<Parameter[] | 'declined'> {
  const { clients, reporter } = deps;
  const region = config.backups.replication!.region;
  const stackName = replicaStackName(config);
  const size = Buffer.byteLength(templateBody, 'utf8');
  if (size > TEMPLATE_BODY_LIMIT) {
    throw new BootstrapError(`the replica template is ${size} bytes, above CloudFormation's ${TEMPLATE_BODY_LIMIT}-byte request limit`, 'keep bootstrap/template/replica.ts small (it has no upload bucket in the replica region)');
  }
  reporter.info(`Replica stack ${stackName} in ${region} (backups.replication), deployed first: the buckets of ${config.name} replicate into it`);
  const plan = await createChangeSet(clients.cfn, {
    stackName,
    template: { templateBody },
    parameters: [],
    tags: stackTags(config),
    clock: deps.clock,
    intervalMs: options.intervalMs,
  });
  if (plan.kind === 'no-changes') {
    reporter.info(`✓ no changes: stack ${stackName} already matches rendered/${config.name}/bootstrap/replica.yaml`);
  } else {
    reporter.info(`Change set ${plan.changeSetName} (${plan.changeSetType === 'CREATE' ? 'creates the stack' : 'updates the stack'}) in ${region}: ${summarizeChanges(plan.changes)}`);
    for (const line of formatChanges(plan.changes)) reporter.info(line);
    await refuseDataLoss(clients.cfn, stackName, plan, options.allowReplace, { subject: 'resources of the replica stack', intended: 'and the source buckets still hold the data' });
    if (!(await confirmChangeSet(clients.cfn, stackName, plan.changeSetName, `Execute this change set on ${stackName} in ${region}? [y/N] `, { yes: options.yes, confirm: deps.confirm, reporter }))) {
      return 'declined';
    }
    const status = await executeAndWait(clients.cfn, stackName, plan.changeSetName, { reporter, clock: deps.clock, timeoutMs: options.timeoutMs, intervalMs: options.intervalMs });
    reporter.info(`✓ ${stackName} ${status}`);
    if (isProduction(config)) {
      await clients.cfn.send(new UpdateTerminationProtectionCommand({ StackName: stackName, EnableTerminationProtection: true }));
      reporter.info(`✓ termination protection is on for ${stackName} (production)`);
    }
  }
  const keyArn = (await readStackOutputs(clients.cfn, stackName))[REPLICA_OUTPUTS.kmsKeyArn];
  if (!keyArn) {
    throw new BootstrapError(`stack ${stackName} in ${region} has no output ${REPLICA_OUTPUTS.kmsKeyArn}`, 'the stack may predate this template version: run bootstrap again so the current replica template is deployed');
  }
  reporter.info(`✓ replica key ${keyArn} goes to ${config.name}'s stack as parameter ${REPLICA_KEY_PARAMETER}`);
  return [{ ParameterKey: REPLICA_KEY_PARAMETER, ParameterValue: keyArn }];
}
