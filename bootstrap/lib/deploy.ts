/**
 * Executes a change set and follows the stack until it settles, printing each
 * new stack event. A failure names the resource that failed first and why; a
 * timeout says where the stack was and that CloudFormation carries on.
 */
import { DescribeStackEventsCommand, DescribeStacksCommand, ExecuteChangeSetCommand, type CloudFormationClient, type StackEvent } from '@aws-sdk/client-cloudformation';
import { BootstrapError, type Reporter } from './errors.js';
import { pollUntil, realClock, WaitTimeout, type Clock } from './polling.js';

const SUCCESS = new Set(['CREATE_COMPLETE', 'UPDATE_COMPLETE', 'IMPORT_COMPLETE']);

export interface WaitOptions {
  reporter: Reporter;
  clock?: Clock;
  timeoutMs?: number;
  intervalMs?: number;
}

export interface FailedResource {
  logicalId: string;
  type: string;
  status: string;
  reason: string;
}

function formatEvent(event: StackEvent): string {
  const time = event.Timestamp ? event.Timestamp.toISOString().slice(11, 19) : '--:--:--';
  const reason = event.ResourceStatusReason ? `  ${event.ResourceStatusReason}` : '';
  return `  ${time}  ${(event.ResourceStatus ?? '').padEnd(28)} ${event.LogicalResourceId ?? ''} (${event.ResourceType ?? ''})${reason}`;
}

/** Failed resources of this operation, the root cause first (CloudFormation lists newest first). */
export function failedResources(events: StackEvent[], stackName: string): FailedResource[] {
  return events
    .filter((event) => (event.ResourceStatus ?? '').endsWith('_FAILED') && event.LogicalResourceId !== stackName)
    .filter((event) => !/Resource creation cancelled|Resource update cancelled/i.test(event.ResourceStatusReason ?? ''))
    .reverse()
    .map((event) => ({
      logicalId: event.LogicalResourceId ?? '?',
      type: event.ResourceType ?? '?',
      status: event.ResourceStatus ?? '?',
      reason: event.ResourceStatusReason ?? '(no reason given)',
    }));
}

export async function executeAndWait(cfn: CloudFormationClient, stackName: string, changeSetName: string, options: WaitOptions): Promise<string> {
  const clock = options.clock ?? realClock;
  // Events that exist before the execution belong to earlier operations: remember them
  // by id rather than by time, so a skewed local clock cannot hide a failure.
  const seen = new Set<string>();
  const before = await cfn.send(new DescribeStackEventsCommand({ StackName: stackName }));
  for (const event of before.StackEvents ?? []) if (event.EventId) seen.add(event.EventId);

  await cfn.send(new ExecuteChangeSetCommand({ StackName: stackName, ChangeSetName: changeSetName }));
  options.reporter.info(`Executing ${changeSetName} on ${stackName}; following the stack events:`);

  const operationEvents: StackEvent[] = [];
  const collectEvents = async () => {
    const page = await cfn.send(new DescribeStackEventsCommand({ StackName: stackName }));
    const fresh = (page.StackEvents ?? []).filter((event) => event.EventId && !seen.has(event.EventId));
    for (const event of [...fresh].reverse()) {
      seen.add(event.EventId!);
      operationEvents.unshift(event);
      options.reporter.info(formatEvent(event));
    }
  };

  let status: string;
  try {
    status = await pollUntil(
      `stack ${stackName}`,
      async () => {
        await collectEvents();
        const described = await cfn.send(new DescribeStacksCommand({ StackName: stackName }));
        const current = described.Stacks?.[0]?.StackStatus ?? 'UNKNOWN';
        return { done: current.endsWith('_IN_PROGRESS') ? undefined : current, state: current };
      },
      { timeoutMs: options.timeoutMs ?? 60 * 60_000, intervalMs: options.intervalMs ?? 10_000, clock },
    );
  } catch (error) {
    if (error instanceof WaitTimeout) {
      throw new BootstrapError(
        `stack ${stackName} was still ${error.lastState} after ${Math.round(error.waitedMs / 60_000)} minutes; CloudFormation carries on without this script`,
        `follow it with \`aws cloudformation describe-stack-events --stack-name ${stackName}\`; when it is complete, run bootstrap again to write the outputs file`,
      );
    }
    throw error;
  }
  if (SUCCESS.has(status)) return status;

  const failures = failedResources(operationEvents, stackName);
  const lines = failures.map((failure) => `  ${failure.logicalId} (${failure.type}) ${failure.status}: ${failure.reason}`);
  const first = failures[0];
  throw new BootstrapError(
    [
      `stack ${stackName} ended in ${status}${first ? `: ${first.logicalId} (${first.type}) failed first: ${first.reason}` : ''}`,
      ...(lines.length > 1 ? ['all failed resources:', ...lines] : []),
    ].join('\n'),
    status.includes('ROLLBACK') ? 'CloudFormation rolled the change back; fix the cause above in the template source or the environment, re-render and run bootstrap again' : 'read the stack events in the CloudFormation console',
  );
}
