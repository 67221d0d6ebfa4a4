/**
 * Workload identity, the self-managed equivalent of IRSA
 * (docs/workload-identity.md): a bucket whose only public objects are the
 * cluster's OIDC discovery document and keys (the first server publishes
 * them), the IAM OIDC provider for that issuer, and one role per component
 * that calls AWS, trusted (AssumeRoleWithWebIdentity) for exactly its
 * service account and the sts.amazonaws.com audience, and limited to exactly
 * its resources. The signing key itself is the node secret
 * k3s/service-account-signing-key (bootstrap/template/secrets.ts).
 */
import type { EnvConfig } from '../../generator/config/schema.js';
import { ATTACHMENTS_PREFIX, GENERATED_SECRETS, LONGHORN_BACKUP_PREFIX, MANUAL_SECRETS, NODE_SECRETS } from '../../generator/platform-names.js';
import {
  environmentSecrets,
  oidcBucketName,
  oidcIssuer,
  OIDC_DOCUMENTS,
  OUTPUTS,
  secretLogicalId,
  STS_AUDIENCE,
  WORKLOAD_IDENTITIES,
  workloadKeys,
  workloadRoleName,
  type WorkloadKey,
} from '../names.js';
import { allow, bucketArn, checkovSkips, getAtt, ref, RETAIN, sub, tags, type CfnObject, type CfnOutput, type CfnResource, type Resources } from './cfn.js';
import { activeAuroraCluster } from './database.js';

export const OIDC_BUCKET = 'OidcBucket';
export const OIDC_PROVIDER = 'OidcProvider';

/** Logical id of a component's role: ExternalSecretsRole, LonghornRole, ... */
export function workloadRoleLogicalId(key: WorkloadKey): string {
  return `${key[0]!.toUpperCase()}${key.slice(1)}Role`;
}

/** Secrets only the nodes read (never External Secrets): the K3s token, the node's tailnet key, the signing key. */
export const NODE_ONLY_SECRETS: ReadonlySet<string> = new Set([GENERATED_SECRETS.k3sToken, MANUAL_SECRETS.tailscaleAuthKey, NODE_SECRETS.serviceAccountSigningKey]);

const oidcObjects = () => Object.values(OIDC_DOCUMENTS).map((key) => bucketArn(OIDC_BUCKET, `/${key}`));

/**
 * The discovery bucket: AWS STS fetches the two documents anonymously over
 * HTTPS, so they are public-read and encrypted with S3's own key (an
 * anonymous reader cannot use the stack's KMS key). Public ACLs stay blocked;
 * only the bucket policy below makes exactly those two keys readable.
 */
function oidcBucket(config: EnvConfig, stack: string): Resources {
  return {
    [OIDC_BUCKET]: {
      Type: 'AWS::S3::Bucket',
      ...RETAIN,
      Properties: {
        BucketName: oidcBucketName(config),
        VersioningConfiguration: { Status: 'Enabled' },
        PublicAccessBlockConfiguration: { BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: false, RestrictPublicBuckets: false },
        OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
        BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
        LifecycleConfiguration: { Rules: [{ Id: 'expire-old-versions', Status: 'Enabled', NoncurrentVersionExpiration: { NoncurrentDays: 30 } }] },
        LoggingConfiguration: { DestinationBucketName: ref('AccessLogsBucket'), LogFilePrefix: `s3-access/${oidcBucketName(config)}/` },
        Tags: tags(stack, 'oidc'),
      },
      Metadata: checkovSkips([
        { id: 'CKV_AWS_145', comment: 'the OIDC discovery document and keys are read anonymously by AWS STS, which cannot use a KMS key; they hold public keys only' },
        { id: 'CKV_AWS_54', comment: 'the bucket policy makes exactly the two OIDC documents public; that is its purpose' },
        { id: 'CKV_AWS_56', comment: 'the bucket policy makes exactly the two OIDC documents public; that is its purpose' },
      ]),
    },
    [`${OIDC_BUCKET}Policy`]: {
      Type: 'AWS::S3::BucketPolicy',
      Properties: {
        Bucket: ref(OIDC_BUCKET),
        PolicyDocument: {
          Version: '2012-10-17',
          Statement: [
            {
              Sid: 'DenyInsecureTransport',
              Effect: 'Deny',
              Principal: { AWS: '*' },
              Action: 's3:*',
              Resource: [getAtt(OIDC_BUCKET, 'Arn'), bucketArn(OIDC_BUCKET, '/*')],
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            },
            { Sid: 'PublicOidcDocuments', Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: oidcObjects() },
          ],
        },
      },
    },
  };
}

const viaService = (service: string) => ({ StringEquals: { 'kms:ViaService': sub(`${service}.\${AWS::Region}.amazonaws.com`) } });

/** One bucket folder: list it, read, write and delete under it, with the stack key through S3 only. */
function bucketFolderStatements(bucket: string, prefix: string): CfnObject[] {
  return [
    allow('ListFolder', ['s3:ListBucket'], [getAtt(bucket, 'Arn')], { StringLike: { 's3:prefix': [`${prefix}/*`, prefix] } }),
    allow('BucketLocation', ['s3:GetBucketLocation'], [getAtt(bucket, 'Arn')]),
    allow('ReadWriteFolder', ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'], [bucketArn(bucket, `/${prefix}/*`)]),
    allow('UseStackKeyThroughS3', ['kms:Decrypt', 'kms:GenerateDataKey'], [getAtt('KmsKey', 'Arn')], viaService('s3')),
  ];
}

/** What each role may do: exactly its resources. */
function workloadStatements(config: EnvConfig, key: WorkloadKey): CfnObject[] {
  switch (key) {
    case 'externalSecrets': {
      const secrets = environmentSecrets(config).filter((secret) => !NODE_ONLY_SECRETS.has(secret.reference));
      return [
        allow('ReadEnvironmentSecrets', ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'], [
          ...secrets.map((secret) => ref(secretLogicalId(secret.reference))),
          // After a point-in-time restore, the restored cluster's secret (the one the outputs name).
          getAtt(activeAuroraCluster(config), 'MasterUserSecret.SecretArn'),
        ]),
        allow('DecryptThroughSecretsManager', ['kms:Decrypt'], [getAtt('KmsKey', 'Arn')], viaService('secretsmanager')),
      ];
    }
    case 'longhorn':
      return bucketFolderStatements('LonghornBackupsBucket', LONGHORN_BACKUP_PREFIX);
    case 'openWebUI':
      return bucketFolderStatements('AttachmentsBucket', ATTACHMENTS_PREFIX);
    case 'certManager': {
      const zone = config.publicIngress.route53HostedZoneId!;
      return [
        allow('AcmeDnsRecords', ['route53:ChangeResourceRecordSets', 'route53:ListResourceRecordSets'], [sub(`arn:\${AWS::Partition}:route53:::hostedzone/${zone}`)]),
        // Change ids are not known in advance.
        allow('AcmeDnsChanges', ['route53:GetChange'], [sub('arn:${AWS::Partition}:route53:::change/*')]),
      ];
    }
  }
}

/** The issuer without its scheme: the prefix of IAM's condition keys (<issuer>:sub, <issuer>:aud). */
export const issuerConditionPrefix = (config: EnvConfig) => oidcIssuer(config).replace(/^https:\/\//, '');

function workloadRole(config: EnvConfig, stack: string, key: WorkloadKey): CfnResource {
  const identity = WORKLOAD_IDENTITIES[key];
  const issuer = issuerConditionPrefix(config);
  return {
    Type: 'AWS::IAM::Role',
    Properties: {
      RoleName: workloadRoleName(config, key),
      Description: `${stack}: ${identity.namespace}/${identity.serviceAccount} through the cluster's OIDC issuer`,
      MaxSessionDuration: 3600,
      AssumeRolePolicyDocument: {
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Principal: { Federated: ref(OIDC_PROVIDER) },
            Action: 'sts:AssumeRoleWithWebIdentity',
            Condition: { StringEquals: { [`${issuer}:sub`]: `system:serviceaccount:${identity.namespace}:${identity.serviceAccount}`, [`${issuer}:aud`]: STS_AUDIENCE } },
          },
        ],
      },
      Policies: [{ PolicyName: identity.role, PolicyDocument: { Version: '2012-10-17', Statement: workloadStatements(config, key) } }],
      Tags: tags(stack, identity.role),
    },
  };
}

export function identityResources(config: EnvConfig, stack: string): Resources {
  const roles = Object.fromEntries(workloadKeys(config).map((key) => [workloadRoleLogicalId(key), workloadRole(config, stack, key)]));
  return {
    ...oidcBucket(config, stack),
    // No thumbprint: for an issuer served by S3 (a certificate from a CA AWS trusts) IAM validates
    // the TLS certificate itself and ignores any thumbprint (AWS IAM user guide, "Create an OIDC identity provider").
    [OIDC_PROVIDER]: {
      Type: 'AWS::IAM::OIDCProvider',
      Properties: { Url: oidcIssuer(config), ClientIdList: [STS_AUDIENCE], Tags: tags(stack, 'oidc') },
    },
    ...roles,
  };
}

export function identityOutputs(config: EnvConfig): Record<string, CfnOutput> {
  const result: Record<string, CfnOutput> = {
    [OUTPUTS.oidcIssuer]: { Description: 'Issuer of the cluster service-account tokens (the OIDC bucket)', Value: oidcIssuer(config) },
  };
  for (const key of workloadKeys(config)) {
    const identity = WORKLOAD_IDENTITIES[key];
    result[identity.output] = { Description: `Role of ${identity.namespace}/${identity.serviceAccount}`, Value: getAtt(workloadRoleLogicalId(key), 'Arn') };
  }
  return result;
}
