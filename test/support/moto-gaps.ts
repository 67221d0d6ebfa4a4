/**
 * How the end-to-end test bridges what moto's CloudFormation cannot do. The
 * production template and the bootstrap code stay exactly as they are; only
 * requests and responses on the test's CloudFormation client are adapted:
 *
 * 1. moto has no CloudFormation support for AWS::RDS::DBCluster,
 *    AWS::RDS::DBClusterParameterGroup, AWS::SecretsManager::Secret,
 *    AWS::S3::BucketPolicy and AWS::EC2::SecurityGroupEgress, and its
 *    AWS::ElasticLoadBalancingV2::LoadBalancer handler drops `Type: network`
 *    (it makes an application load balancer), on which the TCP listener
 *    (AWS::ElasticLoadBalancingV2::Listener) is then refused; nor does it
 *    create AWS::IAM::ServiceLinkedRole (the agents' Auto Scaling role). The template
 *    sent to moto leaves them out (and the Aurora writer instance, which
 *    cannot exist without its cluster); a Ref or GetAtt to one of them becomes
 *    a placeholder string such as `moto-gap:SecretK3sToken`, and DependsOn
 *    entries naming them are dropped.
 * 2. moto resolves Fn::GetAtt only to resources it has already created and
 *    creates them in template order, so the resources are sent in dependency
 *    order (real CloudFormation orders them itself).
 * 3. moto does not fill stack outputs after ExecuteChangeSet. DescribeStacks
 *    answers get the outputs the real stack would have: bucket names and the
 *    instance id from moto's own stack resources (ListStackResources), and for
 *    the Aurora cluster (which moto could not create) a clearly fake endpoint
 *    and secret ARN of the environment's region and account.
 * 4. moto mangles YAML short-form functions: the bootstrap code already sends
 *    JSON, so nothing is needed here.
 * 5. moto's KMS key from CloudFormation fails on tags in CloudFormation's
 *    Key/Value form (it expects TagKey/TagValue): the key is sent untagged.
 *    It keeps a key policy from CloudFormation as an object, on which its
 *    own DescribeKey then fails (it expects the policy as JSON text): the key
 *    is sent with a policy as JSON text that allows everything (the real
 *    policy is checked on the template, test/bootstrap-template-hardening.test.ts).
 *    moto's flow log takes the whole S3 destination ARN as a bucket name, so a
 *    destination with a folder (bucket/vpc-flow-logs/) is sent without it.
 * 6. moto_server answers every caller as account 123456789012 unless a
 *    request names another in the header x-moto-account-id: `actAsAccount`
 *    adds it, so the account guard sees the account the test chose.
 * 7. A template above 51,200 bytes reaches CloudFormation as a TemplateURL
 *    the bootstrap uploaded to S3 (moto's S3). The adaptations above need the
 *    template itself: the bridge reads that object back from moto's S3,
 *    adapts it and sends it as TemplateBody (moto enforces no size limit).
 * 8. moto enforces bucket policies, and moto_server speaks plain HTTP: the
 *    template bucket's TLS-only policy would deny every later request.
 *    `holdBucketPolicies` records PutBucketPolicy requests on the test's S3
 *    client instead of sending them, so the test can check the policy.
 * 9. moto_server answers UpdateTerminationProtection (the bootstrap's last
 *    step in production) with an internal server error: the bridge answers
 *    it and records the request in `terminationProtection`.
 * 10. moto's DeleteStack keeps only resources with DeletionPolicy Retain; it
 *    deletes those with RetainExceptOnCreate (the buckets, secrets and KMS
 *    key of the stack), which real CloudFormation keeps once the stack's
 *    first creation succeeded. The template sent to moto says Retain there.
 * 11. moto has no IMPORT change sets (ChangeSetType IMPORT with
 *    ResourcesToImport): `npm run ops -- recreate-stack` finds the retained
 *    resources on moto (test/ops-recreate-stack-moto.test.ts), and its import
 *    and the update after it run against a mocked CloudFormation client
 *    (test/ops-recreate-stack.test.ts).
 * 12. moto's DeleteStack of the bootstrap stack stops with DependencyViolation
 *    on the VPC (its own deletion order leaves a dependent network resource),
 *    after it has already dropped the stack from its list: DescribeStacks
 *    then says the stack does not exist, as after a real deletion. The
 *    retained resources are untouched either way. `deleteStackOnMoto`
 *    accepts exactly that error and checks the stack is gone.
 * 13. Aurora point-in-time restore (`npm run ops -- restore-database`). moto
 *    5.2.1's RDS API answers DescribeDBClusters with EarliestRestorableTime
 *    (the creation time) and LatestRestorableTime (now), and takes
 *    ModifyDBCluster's DeletionProtection; but its CloudFormation creates no
 *    AWS::RDS::DBCluster, a restored one (RestoreToTime) included: it warns,
 *    reports CREATE_COMPLETE and creates nothing (gap 1). Its own
 *    RestoreDBClusterToPointInTime accepts any time, even one outside the
 *    window, so the window check must be the verb's. The test creates the
 *    source cluster through moto's RDS API and `answerStackClusters` answers
 *    DescribeStackResource for the cluster's logical id with it; the deploy,
 *    the wait for the new cluster and the outputs switch run against mocked
 *    clients (test/ops-restore-database.test.ts).
 * 14. Cross-region replication (backups.replication; test/bootstrap-moto-replication.test.ts).
 *    moto 5.2.1's CloudFormation handler of AWS::S3::Bucket applies only
 *    BucketEncryption and Tags: VersioningConfiguration, LifecycleConfiguration,
 *    PublicAccessBlockConfiguration and ReplicationConfiguration are dropped,
 *    so a bucket the stack creates has no versioning and no replication in
 *    moto. The test shows that (GetBucketReplication finds none), then applies
 *    the template's own versioning and replication rule through moto's S3 API
 *    (which refuses replication on an unversioned bucket, like S3) and reads
 *    it back; moto's GetBucketReplication drops SourceSelectionCriteria and
 *    always answers DeleteMarkerReplication Disabled, so those two are checked
 *    on the template (test/backup-replication.test.ts). moto stores the
 *    configuration but never copies an object (no replication engine): the
 *    test puts an object and finds no copy in the replica, so that objects
 *    really arrive is not proven here. The replica stack's outputs (gap 3)
 *    are its key's ARN, made from moto's key id, and its bucket names. moto's
 *    GetRolePolicy answers an inline policy made by CloudFormation as a
 *    Python dict literal (single quotes), which the test reads as such.
 */
import {
  DeleteStackCommand,
  DescribeStacksCommand,
  ListStackResourcesCommand,
  type CloudFormationClient,
  type Output,
} from '@aws-sdk/client-cloudformation';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { OUTPUTS, REPLICA_OUTPUTS } from '../../bootstrap/names.js';
import { REPLICA_KEY } from '../../bootstrap/template/replica.js';

export const MOTO_UNSUPPORTED_TYPES = [
  'AWS::RDS::DBCluster',
  'AWS::RDS::DBClusterParameterGroup',
  'AWS::SecretsManager::Secret',
  'AWS::S3::BucketPolicy',
  'AWS::EC2::SecurityGroupEgress',
  'AWS::ElasticLoadBalancingV2::Listener',
  'AWS::IAM::ServiceLinkedRole',
];
/** Properties moto's CloudFormation handler of a type cannot read, and how they are sent instead. */
const MOTO_PROPERTY_GAPS: Record<string, (properties: Record<string, Json>) => void> = {
  'AWS::KMS::Key': (properties) => {
    delete properties['Tags'];
    // moto's own policy check reads the policy as JSON text, and resolves no functions in it.
    properties['KeyPolicy'] = JSON.stringify({ Version: '2012-10-17', Statement: [{ Sid: 'MotoGap', Effect: 'Allow', Principal: { AWS: '*' }, Action: 'kms:*', Resource: '*' }] });
  },
  'AWS::EC2::FlowLog': (properties) => {
    const sub = (properties['LogDestination'] as { 'Fn::Sub'?: string } | undefined)?.['Fn::Sub'];
    const bucket = sub ? /^\$\{([A-Za-z0-9]+)\.Arn\}/.exec(sub)?.[1] : undefined;
    if (bucket) properties['LogDestination'] = { 'Fn::GetAtt': [bucket, 'Arn'] };
  },
};
/** Resources that cannot exist without a left-out one. */
const NEEDS_LEFT_OUT = ['AWS::RDS::DBInstance'];

type Json = unknown;
interface Resource {
  Type: string;
  Properties?: Json;
  DependsOn?: string | string[];
  [key: string]: Json;
}

function references(value: Json, found = new Set<string>()): Set<string> {
  if (Array.isArray(value)) value.forEach((item) => references(item, found));
  else if (value && typeof value === 'object') {
    const object = value as Record<string, Json>;
    if (typeof object['Ref'] === 'string') found.add(object['Ref']);
    const getAtt = object['Fn::GetAtt'];
    if (Array.isArray(getAtt) && typeof getAtt[0] === 'string') found.add(getAtt[0]);
    const subText = object['Fn::Sub'];
    if (typeof subText === 'string') for (const match of subText.matchAll(/\$\{([A-Za-z0-9]+)(\.[A-Za-z.]+)?\}/g)) found.add(match[1]!);
    Object.values(object).forEach((item) => references(item, found));
  }
  return found;
}

function replaceReferences(value: Json, leftOut: Set<string>): Json {
  if (Array.isArray(value)) return value.map((item) => replaceReferences(item, leftOut));
  if (!value || typeof value !== 'object') return value;
  const object = value as Record<string, Json>;
  if (typeof object['Ref'] === 'string' && leftOut.has(object['Ref'])) return `moto-gap:${object['Ref']}`;
  const getAtt = object['Fn::GetAtt'];
  if (Array.isArray(getAtt) && leftOut.has(getAtt[0] as string)) return `moto-gap:${getAtt[0] as string}`;
  return Object.fromEntries(Object.entries(object).map(([key, item]) => [key, replaceReferences(item, leftOut)]));
}

export function motoTemplate(templateBody: string): string {
  const template = JSON.parse(templateBody) as { Resources: Record<string, Resource>; Outputs?: unknown };
  const leftOut = new Set(Object.entries(template.Resources).filter(([, r]) => MOTO_UNSUPPORTED_TYPES.includes(r.Type)).map(([id]) => id));
  for (const [id, resource] of Object.entries(template.Resources)) {
    if (NEEDS_LEFT_OUT.includes(resource.Type) && [...references(resource.Properties)].some((ref) => leftOut.has(ref))) leftOut.add(id);
  }
  const kept: Record<string, Resource> = {};
  for (const [id, resource] of Object.entries(template.Resources)) {
    if (leftOut.has(id)) continue;
    const dependsOn = [resource.DependsOn ?? []].flat().filter((name) => !leftOut.has(name));
    const { DependsOn: _dependsOn, ...rest } = resource;
    const adapted = replaceReferences(rest, leftOut) as Resource;
    if (adapted['DeletionPolicy'] === 'RetainExceptOnCreate') adapted['DeletionPolicy'] = 'Retain';
    MOTO_PROPERTY_GAPS[resource.Type]?.(adapted.Properties as Record<string, Json>);
    kept[id] = { ...adapted, ...(dependsOn.length > 0 ? { DependsOn: dependsOn } : {}) };
  }
  // Dependency order (moto creates resources in the order it reads them).
  const ordered: Record<string, Resource> = {};
  const visit = (id: string, path: string[]) => {
    if (ordered[id] || !kept[id]) return;
    if (path.includes(id)) throw new Error(`dependency cycle: ${[...path, id].join(' → ')}`);
    const resource = kept[id]!;
    for (const dependency of [...references(resource), ...[resource.DependsOn ?? []].flat()]) visit(dependency, [...path, id]);
    ordered[id] = resource;
  };
  Object.keys(kept).sort().forEach((id) => visit(id, []));
  const { Outputs: _outputs, ...withoutOutputs } = template;
  return JSON.stringify({ ...withoutOutputs, Resources: ordered });
}

/** The outputs the real stack would report, built from moto's stack resources where moto has them. */
async function outputsFromResources(cfn: CloudFormationClient, stackName: string, region: string, account: string): Promise<Output[]> {
  const resources = await cfn.send(new ListStackResourcesCommand({ StackName: stackName }));
  const physical = (id: string) => resources.StackResourceSummaries?.find((r) => r.LogicalResourceId === id)?.PhysicalResourceId ?? '';
  // The replica stack (gap 14): its key's ARN and its buckets.
  if (physical(REPLICA_KEY)) {
    const key = physical(REPLICA_KEY);
    const buckets = (resources.StackResourceSummaries ?? []).filter((r) => r.ResourceType === 'AWS::S3::Bucket' && r.LogicalResourceId !== 'ReplicaAccessLogsBucket');
    return [
      { OutputKey: REPLICA_OUTPUTS.kmsKeyArn, OutputValue: key.startsWith('arn:') ? key : `arn:aws:kms:${region}:${account}:key/${key}` },
      ...buckets.map((bucket) => ({ OutputKey: bucket.LogicalResourceId!, OutputValue: bucket.PhysicalResourceId! })),
    ];
  }
  const values: Record<string, string> = {
    [OUTPUTS.auroraEndpoint]: `${stackName}.cluster-motogap.${region}.rds.amazonaws.com`,
    [OUTPUTS.auroraPort]: '5432',
    [OUTPUTS.auroraMasterUserSecretArn]: `arn:aws:secretsmanager:${region}:${account}:secret:rds!cluster-motogap`,
    [OUTPUTS.attachmentsBucket]: physical('AttachmentsBucket'),
    [OUTPUTS.longhornBackupsBucket]: physical('LonghornBackupsBucket'),
    [OUTPUTS.etcdSnapshotsBucket]: physical('EtcdSnapshotsBucket'),
    [OUTPUTS.kubeconfigBucket]: physical('KubeconfigBucket'),
    [OUTPUTS.nodeInstanceId]: physical('NodeInstance'),
    [OUTPUTS.secretsPrefix]: 'moto-gap',
    [OUTPUTS.kmsKeyArn]: physical('KmsKey'),
  };
  // A role's physical id is its name; only the roles moto actually created become outputs.
  for (const [output, id] of [
    [OUTPUTS.externalSecretsRoleArn, 'ExternalSecretsRole'],
    [OUTPUTS.longhornRoleArn, 'LonghornRole'],
    [OUTPUTS.openWebUIRoleArn, 'OpenWebUIRole'],
    [OUTPUTS.certManagerRoleArn, 'CertManagerRole'],
  ] as const) {
    if (physical(id)) values[output] = `arn:aws:iam::${account}:role/${physical(id)}`;
  }
  return Object.entries(values).map(([OutputKey, OutputValue]) => ({ OutputKey, OutputValue }));
}

/** The uploaded template a TemplateURL names (https://<bucket>.s3.<region>.amazonaws.com/<key>), read from moto's S3. */
async function uploadedTemplate(s3: S3Client, url: string): Promise<string> {
  const match = /^https:\/\/([^.]+)\.s3\.[a-z0-9-]+\.amazonaws\.com\/(.+)$/.exec(url);
  if (!match) throw new Error(`not a template URL the bootstrap writes: ${url}`);
  const object = await s3.send(new GetObjectCommand({ Bucket: match[1], Key: match[2] }));
  return object.Body!.transformToString();
}

/** UpdateTerminationProtection requests the bridge answered instead of moto (gap 9). */
export const terminationProtection: { StackName?: string; EnableTerminationProtection?: boolean }[] = [];

/** Installs the adaptations above on a CloudFormation client that talks to moto (`s3`: where uploaded templates are read back). */
export function bridgeMotoGaps(cfn: CloudFormationClient, region: string, account: string, s3?: S3Client): void {
  cfn.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as Record<string, unknown>;
      if (context.commandName === 'UpdateTerminationProtectionCommand') {
        terminationProtection.push(input as (typeof terminationProtection)[number]);
        return { output: { $metadata: {}, StackId: `moto-gap:${String(input['StackName'])}` }, response: {} } as never;
      }
      if (context.commandName === 'CreateChangeSetCommand' && typeof input['TemplateURL'] === 'string') {
        if (!s3) throw new Error('bridgeMotoGaps needs the S3 client to read an uploaded template');
        input['TemplateBody'] = await uploadedTemplate(s3, input['TemplateURL']);
        delete input['TemplateURL'];
      }
      if (context.commandName === 'CreateChangeSetCommand' && typeof input['TemplateBody'] === 'string') {
        input['TemplateBody'] = motoTemplate(input['TemplateBody']);
      }
      const result = await next(args);
      if (context.commandName === 'DescribeStacksCommand') {
        const output = result.output as { Stacks?: { StackName?: string; StackStatus?: string; Outputs?: Output[] }[] };
        for (const stack of output.Stacks ?? []) {
          if ((stack.Outputs ?? []).length === 0 && stack.StackName && /_COMPLETE$/.test(stack.StackStatus ?? '')) {
            stack.Outputs = await outputsFromResources(cfn, stack.StackName, region, account);
          }
        }
      }
      return result;
    },
    { step: 'initialize', name: 'bridgeMotoGaps' },
  );
}

interface MiddlewareClient {
  middlewareStack: { add: CloudFormationClient['middlewareStack']['add'] };
}

/** Makes moto treat every request of these clients as coming from `account`. */
export function actAsAccount(clients: MiddlewareClient[], account: string): void {
  for (const client of clients) {
    client.middlewareStack.add(
      (next) => async (args) => {
        const request = args.request as { headers?: Record<string, string> };
        if (request.headers) request.headers['x-moto-account-id'] = account;
        return next(args);
      },
      { step: 'build', name: 'actAsMotoAccount' },
    );
  }
}

/** Records the PutBucketPolicy requests of an S3 client talking to moto instead of sending them (gap 8 above). */
export function holdBucketPolicies(s3: S3Client): { bucket: string; policy: string }[] {
  const held: { bucket: string; policy: string }[] = [];
  s3.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName !== 'PutBucketPolicyCommand') return next(args);
      const input = args.input as { Bucket: string; Policy: string };
      held.push({ bucket: input.Bucket, policy: input.Policy });
      return { output: { $metadata: {} }, response: {} } as never;
    },
    { step: 'initialize', name: 'holdBucketPolicies' },
  );
  return held;
}

/** DeleteStack on moto (gap 12): only moto's DependencyViolation on the stack's VPC is accepted, and the stack must be gone. */
export async function deleteStackOnMoto(cfn: CloudFormationClient, stackName: string): Promise<void> {
  try {
    await cfn.send(new DeleteStackCommand({ StackName: stackName }));
  } catch (error) {
    if (!((error as Error).name === 'DependencyViolation' && /The vpc vpc-\w+ has dependencies/.test((error as Error).message))) throw error;
  }
  const left = await cfn.send(new DescribeStacksCommand({ StackName: stackName })).then(
    (described) => described.Stacks?.[0]?.StackStatus,
    (error: Error) => (/does not exist/.test(error.message) ? undefined : Promise.reject(error)),
  );
  if (left !== undefined && left !== 'DELETE_COMPLETE') throw new Error(`moto did not delete stack ${stackName}: ${left}`);
}

/** DescribeStackResource answers for clusters moto's stack cannot hold (gap 13): logical id → DB cluster identifier created through moto's RDS API. */
export function answerStackClusters(cfn: CloudFormationClient, clusters: Record<string, string>): void {
  cfn.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as { LogicalResourceId?: string };
      const identifier = context.commandName === 'DescribeStackResourceCommand' ? clusters[input.LogicalResourceId ?? ''] : undefined;
      if (identifier === undefined) return next(args);
      const detail = { LogicalResourceId: input.LogicalResourceId, PhysicalResourceId: identifier, ResourceType: 'AWS::RDS::DBCluster', ResourceStatus: 'CREATE_COMPLETE', LastUpdatedTimestamp: new Date() };
      return { output: { $metadata: {}, StackResourceDetail: detail }, response: {} } as never;
    },
    { step: 'initialize', name: 'answerStackClusters' },
  );
}
