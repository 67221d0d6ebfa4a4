/**
 * Small typed helpers for writing a CloudFormation template as plain data:
 * intrinsic functions in their long form (the rendered YAML and the JSON the
 * scripts send are the same object), tags, and checkov skips that sit next to
 * the resource they concern, each with its reason.
 */

export type CfnValue = string | number | boolean | CfnValue[] | { [key: string]: CfnValue | undefined };
export type CfnObject = { [key: string]: CfnValue | undefined };

export interface CfnResource {
  Type: string;
  Properties?: CfnObject;
  DependsOn?: string | string[];
  Condition?: string;
  DeletionPolicy?: 'Retain' | 'Snapshot' | 'Delete' | 'RetainExceptOnCreate';
  UpdateReplacePolicy?: 'Retain' | 'Snapshot' | 'Delete';
  UpdatePolicy?: CfnObject;
  Metadata?: CfnObject;
}

export type Resources = Record<string, CfnResource>;

export interface CfnParameter {
  Type: 'String' | 'Number' | 'AWS::EC2::Image::Id';
  Description: string;
  AllowedPattern?: string;
  MinValue?: number;
  MaxValue?: number;
}

export interface CfnOutput {
  Description: string;
  Value: CfnValue;
}

export interface CfnTemplate {
  AWSTemplateFormatVersion: '2010-09-09';
  Description: string;
  Parameters: Record<string, CfnParameter>;
  Resources: Resources;
  Outputs: Record<string, CfnOutput>;
}

export const ref = (name: string): CfnObject => ({ Ref: name });
export const getAtt = (resource: string, attribute: string): CfnObject => ({ 'Fn::GetAtt': [resource, attribute] });
export const sub = (text: string): CfnObject => ({ 'Fn::Sub': text });
export const join = (parts: CfnValue[]): CfnObject => ({ 'Fn::Join': ['', parts] });
export const selectAz = (index: number): CfnObject => ({ 'Fn::Select': [index, { 'Fn::GetAZs': '' }] });

/** arn:<partition>:s3:::<bucket>[/<suffix>] for a bucket resource of this template. */
export const bucketArn = (bucket: string, suffix = ''): CfnObject => sub(`\${${bucket}.Arn}${suffix}`);

export function tags(stackName: string, name: string): CfnValue[] {
  return [
    { Key: 'Name', Value: `${stackName}-${name}` },
    { Key: 'dubai-hub:stack', Value: stackName },
  ];
}

export interface CheckovSkip {
  id: string;
  comment: string;
}

/** Metadata that makes checkov skip the listed checks for one resource, each with the reason. */
export function checkovSkips(skips: CheckovSkip[]): CfnObject | undefined {
  if (skips.length === 0) return undefined;
  return { checkov: { skip: skips.map((skip) => ({ id: skip.id, comment: skip.comment })) } };
}

/** Policy statement helper: one Allow statement on named resources (never "*"). */
export function allow(sid: string, actions: string[], resources: CfnValue[], condition?: CfnObject): CfnObject {
  return { Sid: sid, Effect: 'Allow', Action: actions, Resource: resources, ...(condition ? { Condition: condition } : {}) };
}

/**
 * Kept when the stack is deleted or the resource replaced; removed only when the
 * stack's very first creation rolls back (so a failed first try leaves no
 * named buckets or secrets behind that would block the next one).
 */
/**
 * A KMS key policy: the account administers the key through IAM (the AWS
 * default, so IAM policies decide who uses it), then the key's own grants.
 */
export function kmsKeyPolicy(statements: CfnObject[]): CfnObject {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'AccountAdministersKeyThroughIam',
        Effect: 'Allow',
        Principal: { AWS: sub('arn:${AWS::Partition}:iam::${AWS::AccountId}:root') },
        Action: 'kms:*',
        // A key policy's only resource is the key itself; "*" here means this key.
        Resource: '*',
      },
      ...statements,
    ],
  };
}

export const RETAIN = { DeletionPolicy: 'RetainExceptOnCreate', UpdateReplacePolicy: 'Retain' } as const;
export const SNAPSHOT = { DeletionPolicy: 'Snapshot', UpdateReplacePolicy: 'Snapshot' } as const;
