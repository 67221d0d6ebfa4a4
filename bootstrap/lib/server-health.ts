/**
 * "Instance gone, stack present": CloudFormation keeps a terminated instance
 * in the stack, so a bootstrap of an unchanged template reports no changes
 * and re-creates nothing. This finds the servers of the stack whose instance
 * is terminated, shutting down or no longer known to EC2, by logical id.
 */
import { ListStackResourcesCommand, type CloudFormationClient, type StackResourceSummary } from '@aws-sdk/client-cloudformation';
import { DescribeInstancesCommand, type EC2Client } from '@aws-sdk/client-ec2';
import type { EnvConfig } from '../../generator/config/schema.js';
import { currentServerIds, serverGeneration } from '../names.js';
import { errorName } from './errors.js';

export interface ServerState {
  /** Server number (1 is the first server). */
  server: number;
  generation: number;
  logicalId: string;
  /** The instance id the stack holds; undefined when the stack has no such resource. */
  instanceId?: string;
  /** EC2's state name (running, stopped, terminated, …), or "missing" when EC2 does not know the instance. */
  state: string;
}

/** States after which an instance never runs again. */
const GONE = new Set(['terminated', 'shutting-down', 'missing']);

export const isLost = (server: ServerState): boolean => GONE.has(server.state);

async function stackResources(cfn: CloudFormationClient, stackName: string): Promise<StackResourceSummary[]> {
  const all: StackResourceSummary[] = [];
  let NextToken: string | undefined;
  do {
    const page = await cfn.send(new ListStackResourcesCommand({ StackName: stackName, NextToken }));
    all.push(...(page.StackResourceSummaries ?? []));
    NextToken = page.NextToken;
  } while (NextToken);
  return all;
}

async function instanceState(ec2: EC2Client, instanceId: string): Promise<string> {
  try {
    const described = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }));
    const instance = described.Reservations?.flatMap((reservation) => reservation.Instances ?? []).find((candidate) => candidate.InstanceId === instanceId);
    return instance?.State?.Name ?? 'missing';
  } catch (error) {
    // EC2 forgets terminated instances after about an hour.
    if (errorName(error) === 'InvalidInstanceID.NotFound') return 'missing';
    throw error;
  }
}

/** The state of every server of the rendered config, in server order. */
export async function serverStates(clients: { cfn: CloudFormationClient; ec2: EC2Client }, stackName: string, config: EnvConfig): Promise<ServerState[]> {
  const resources = await stackResources(clients.cfn, stackName);
  const states: ServerState[] = [];
  for (let server = 1; server <= config.cluster.servers; server++) {
    const logicalId = currentServerIds(config, server).instance;
    const instanceId = resources.find((resource) => resource.LogicalResourceId === logicalId)?.PhysicalResourceId || undefined;
    const generation = serverGeneration(config, server);
    states.push({ server, generation, logicalId, instanceId, state: instanceId ? await instanceState(clients.ec2, instanceId) : 'not in the stack' });
  }
  return states;
}

/** One line per server for progress output: "server 1 NodeInstance i-0abc: running". */
export function describeServer(server: ServerState): string {
  return `server ${server.server} ${server.logicalId} ${server.instanceId ?? '(none)'}: ${server.state}`;
}
