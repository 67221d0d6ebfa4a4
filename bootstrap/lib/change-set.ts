/**
 * Change sets: create one for the rendered template, wait until it is ready,
 * describe it for people, and find the changes that would replace or delete
 * data (Aurora, buckets, secrets, the KMS key, the data volume).
 */
import {
  CreateChangeSetCommand,
  DeleteChangeSetCommand,
  DescribeChangeSetCommand,
  DescribeStacksCommand,
  type CloudFormationClient,
  type Parameter,
  type Tag,
} from '@aws-sdk/client-cloudformation';
import type { EnvConfig } from '../../generator/config/schema.js';
import { BootstrapError, errorName } from './errors.js';
import { pollUntil, realClock, type Clock } from './polling.js';
import type { TemplateSource } from './template-upload.js';

export interface PlannedChange {
  logicalId: string;
  type: string;
  action: string;
  /** True, False or Conditional for a Modify; undefined otherwise. */
  replacement?: string;
  /** Properties (or other parts) the change touches. */
  details: string[];
}

export type ChangeSetPlan =
  | { kind: 'no-changes'; changeSetType: 'CREATE' | 'UPDATE' }
  | { kind: 'changes'; changeSetName: string; changeSetType: 'CREATE' | 'UPDATE'; changes: PlannedChange[] };

/** Resource types that hold data nobody can regenerate. */
export const PROTECTED_TYPES: Record<string, string> = {
  'AWS::RDS::DBCluster': 'the Aurora cluster',
  'AWS::S3::Bucket': 'an S3 bucket',
  'AWS::SecretsManager::Secret': 'a Secrets Manager secret',
  'AWS::KMS::Key': 'the KMS key that encrypts everything',
  'AWS::EC2::Volume': 'the Longhorn data volume',
};

export interface StackState {
  exists: boolean;
  status?: string;
}

export async function stackState(cfn: CloudFormationClient, stackName: string): Promise<StackState> {
  try {
    const result = await cfn.send(new DescribeStacksCommand({ StackName: stackName }));
    const stack = result.Stacks?.[0];
    return stack ? { exists: true, status: stack.StackStatus } : { exists: false };
  } catch (error) {
    if (errorName(error) === 'ValidationError' && /does not exist/.test((error as Error).message)) return { exists: false };
    throw error;
  }
}

const NO_CHANGES = /didn't contain changes|No updates are to be performed/i;

export interface ChangeSetInput {
  stackName: string;
  /** The template in the request, or (above 51,200 bytes) the S3 URL it was uploaded to. */
  template: TemplateSource;
  parameters: Parameter[];
  tags: Tag[];
  clock?: Clock;
  timeoutMs?: number;
  intervalMs?: number;
}

export async function createChangeSet(cfn: CloudFormationClient, input: ChangeSetInput): Promise<ChangeSetPlan> {
  const clock = input.clock ?? realClock;
  const state = await stackState(cfn, input.stackName);
  if (state.status === 'ROLLBACK_COMPLETE' || state.status === 'ROLLBACK_FAILED' || state.status === 'DELETE_FAILED') {
    throw new BootstrapError(
      `stack ${input.stackName} is in ${state.status}: its first creation failed and it cannot be updated`,
      `read why in the CloudFormation events, delete the stack (aws cloudformation delete-stack --stack-name ${input.stackName}), then run bootstrap again`,
    );
  }
  if (state.status?.endsWith('_IN_PROGRESS') && state.status !== 'REVIEW_IN_PROGRESS') {
    throw new BootstrapError(`stack ${input.stackName} is busy (${state.status})`, 'wait until the running operation ends, then run bootstrap again');
  }
  const changeSetType = state.exists && state.status !== 'REVIEW_IN_PROGRESS' ? 'UPDATE' : 'CREATE';
  const changeSetName = `bootstrap-${clock.now()}`;
  await cfn.send(
    new CreateChangeSetCommand({
      StackName: input.stackName,
      ChangeSetName: changeSetName,
      ChangeSetType: changeSetType,
      ...('templateUrl' in input.template ? { TemplateURL: input.template.templateUrl } : { TemplateBody: input.template.templateBody }),
      Parameters: input.parameters,
      Tags: input.tags,
      Capabilities: ['CAPABILITY_IAM', 'CAPABILITY_NAMED_IAM'],
      Description: 'npm run bootstrap',
    }),
  );

  const ready = await pollUntil(
    `change set ${changeSetName}`,
    async () => {
      const described = await cfn.send(new DescribeChangeSetCommand({ StackName: input.stackName, ChangeSetName: changeSetName }));
      const status = described.Status ?? 'UNKNOWN';
      if (status === 'CREATE_COMPLETE') return { done: { failed: false, reason: '' }, state: status };
      if (status === 'FAILED') return { done: { failed: true, reason: described.StatusReason ?? '' }, state: status };
      return { done: undefined, state: status };
    },
    { timeoutMs: input.timeoutMs ?? 5 * 60_000, intervalMs: input.intervalMs ?? 3_000, clock },
  );
  if (ready.failed) {
    await cfn.send(new DeleteChangeSetCommand({ StackName: input.stackName, ChangeSetName: changeSetName }));
    if (NO_CHANGES.test(ready.reason)) return { kind: 'no-changes', changeSetType };
    throw new BootstrapError(`CloudFormation could not plan the change: ${ready.reason}`, 'correct the template source under bootstrap/template/ or the environment file, re-render, and run bootstrap again');
  }
  return { kind: 'changes', changeSetName, changeSetType, changes: await listChanges(cfn, input.stackName, changeSetName) };
}

async function listChanges(cfn: CloudFormationClient, stackName: string, changeSetName: string): Promise<PlannedChange[]> {
  const changes: PlannedChange[] = [];
  let nextToken: string | undefined;
  do {
    const page = await cfn.send(new DescribeChangeSetCommand({ StackName: stackName, ChangeSetName: changeSetName, NextToken: nextToken }));
    for (const change of page.Changes ?? []) {
      const resource = change.ResourceChange;
      if (!resource) continue;
      const details = (resource.Details ?? [])
        .map((detail) => detail.Target?.Name ?? detail.Target?.Attribute ?? '')
        .filter((name) => name !== '');
      changes.push({
        logicalId: resource.LogicalResourceId ?? '?',
        type: resource.ResourceType ?? '?',
        action: resource.Action ?? '?',
        replacement: resource.Action === 'Modify' ? resource.Replacement : undefined,
        details: [...new Set(details)].sort(),
      });
    }
    nextToken = page.NextToken;
  } while (nextToken);
  return changes.sort((a, b) => (a.logicalId < b.logicalId ? -1 : a.logicalId > b.logicalId ? 1 : 0));
}

export async function discardChangeSet(cfn: CloudFormationClient, stackName: string, changeSetName: string): Promise<void> {
  await cfn.send(new DeleteChangeSetCommand({ StackName: stackName, ChangeSetName: changeSetName }));
}

/**
 * Whether a change may replace its resource. Only an explicit "False" means
 * no: "True", "Conditional" and any value CloudFormation may add later (or
 * none at all) count as replacing, in the refusal, the listing and the summary.
 */
export function mayReplace(change: PlannedChange): boolean {
  return change.action === 'Modify' && change.replacement !== 'False';
}

/** Changes that would delete or replace a resource holding data. */
export function destructiveChanges(changes: PlannedChange[]): PlannedChange[] {
  return changes.filter((change) => PROTECTED_TYPES[change.type] !== undefined && (change.action === 'Remove' || mayReplace(change)));
}

const SYMBOL: Record<string, string> = { Add: '+', Modify: '~', Remove: '-', Import: '>', Dynamic: '?' };

/** One line per change, aligned, with replacement and the touched properties. */
/** The tags every stack of an environment carries (the main stack, its replica, an import). */
export function stackTags(config: Pick<EnvConfig, 'name' | 'tier'>): Tag[] {
  return [
    { Key: 'dubai-hub:environment', Value: config.name },
    { Key: 'dubai-hub:tier', Value: config.tier },
  ];
}

/**
 * Refuses a change set that would replace or delete data the operator did not
 * allow with --allow-replace: the change set is deleted first, so nothing changes.
 * `subject` names what holds the data; `intended` is the condition the fix states.
 */
export async function refuseDataLoss(
  cfn: CloudFormationClient,
  stackName: string,
  plan: { changeSetName: string; changes: PlannedChange[] },
  allowReplace: readonly string[],
  wording: { subject: string; intended: string },
): Promise<void> {
  const refused = destructiveChanges(plan.changes).filter((change) => !allowReplace.includes(change.logicalId));
  if (refused.length === 0) return;
  await discardChangeSet(cfn, stackName, plan.changeSetName);
  throw new BootstrapError(
    [
      `refusing to replace or delete ${wording.subject} that hold data:`,
      ...refused.map((change) => `  ${change.logicalId}: ${PROTECTED_TYPES[change.type]} would be ${change.action === 'Remove' ? 'DELETED' : 'REPLACED'}${change.details.length > 0 ? ` (because of ${change.details.join(', ')})` : ''}`),
      'The change set was deleted; nothing was changed.',
    ].join('\n'),
    `if that is intended (${wording.intended}), run again with ${refused.map((change) => `--allow-replace ${change.logicalId}`).join(' ')}`,
  );
}

export function formatChanges(changes: PlannedChange[]): string[] {
  if (changes.length === 0) return ['  (no resource changes)'];
  const idWidth = Math.max(...changes.map((change) => change.logicalId.length));
  const typeWidth = Math.max(...changes.map((change) => change.type.length));
  return changes.map((change) => {
    const notes: string[] = [];
    if (change.replacement === 'True') notes.push('REPLACES the resource');
    else if (mayReplace(change)) notes.push(`may REPLACE the resource (Replacement: ${change.replacement ?? 'not given'})`);
    if (change.details.length > 0) notes.push(change.details.join(', '));
    const symbol = SYMBOL[change.action] ?? '?';
    return `  ${symbol} ${change.action.padEnd(6)} ${change.logicalId.padEnd(idWidth)}  ${change.type.padEnd(typeWidth)}${notes.length > 0 ? `  (${notes.join('; ')})` : ''}`.trimEnd();
  });
}

export function summarizeChanges(changes: PlannedChange[]): string {
  const count = (action: string) => changes.filter((change) => change.action === action).length;
  return `${count('Add')} to add, ${count('Modify')} to modify (${changes.filter(mayReplace).length} replacing), ${count('Remove')} to remove`;
}

/** K3s server instances of the template: NodeInstance (server 1) and Server<n>Instance, with G<generation> once re-created. */
export const SERVER_INSTANCE = /^(NodeInstance|Server[0-9]+Instance)(G[0-9]+)?$/;

export interface QuorumCheck {
  /** Servers in the stack before the change. */
  before: number;
  /** Servers the change replaces or removes. */
  lost: PlannedChange[];
  /** Servers etcd can lose at once and keep its quorum. */
  tolerance: number;
}

/**
 * What a change set does to the server set: how many servers the stack has
 * now (the rendered count, less those it adds, plus those it removes) and
 * which of them it replaces or removes. With three or more servers, losing
 * more than a minority at once loses etcd's quorum.
 */
export function quorumCheck(changes: PlannedChange[], renderedServers: number): QuorumCheck {
  const servers = changes.filter((change) => change.type === 'AWS::EC2::Instance' && SERVER_INSTANCE.test(change.logicalId));
  const added = servers.filter((change) => change.action === 'Add').length;
  const lost = servers.filter((change) => change.action === 'Remove' || mayReplace(change));
  const before = renderedServers - added + servers.filter((change) => change.action === 'Remove').length;
  return { before, lost, tolerance: Math.floor((before - 1) / 2) };
}

/** Whether the change set would take away more servers than etcd can lose (never for a single server: that is a rebuild). */
export function losesQuorum(check: QuorumCheck): boolean {
  return check.before >= 3 && check.lost.length > check.tolerance;
}

/**
 * Asks before executing a change set, unless --yes: true to execute; false
 * when declined (the change set is then deleted). Without a terminal to ask
 * on, the change set is deleted and the run refused.
 */
export async function confirmChangeSet(
  cfn: CloudFormationClient,
  stackName: string,
  changeSetName: string,
  question: string,
  context: { yes: boolean; confirm?: (question: string) => Promise<boolean>; reporter: { info(line: string): void } },
): Promise<boolean> {
  if (context.yes) return true;
  if (!context.confirm) {
    await discardChangeSet(cfn, stackName, changeSetName);
    throw new BootstrapError('there is no terminal to confirm the change set on; nothing was changed', 'review the change set above and run again with --yes');
  }
  if (await context.confirm(question)) return true;
  await discardChangeSet(cfn, stackName, changeSetName);
  context.reporter.info('Not executed; the change set was deleted.');
  return false;
}
