/**
 * The K3s node: one EC2 instance from the environment's pinned AMI with
 * IMDSv2 required (hop limit 2, so External Secrets in a pod can use the
 * instance profile), encrypted gp3 volumes, detailed monitoring, termination
 * protection in production, and an instance profile that can read only this
 * environment's secrets and buckets (plus SSM core for Session Manager).
 */
import type { EnvConfig } from '../../generator/config/schema.js';
import { LONGHORN_BACKUP_PREFIX } from '../../generator/platform-names.js';
import { ETCD_SNAPSHOT_FOLDER, KUBECONFIG_KEY } from '../names.js';
import { allow, bucketArn, checkovSkips, getAtt, ref, SNAPSHOT, sub, tags, type CfnObject, type CfnResource, type Resources } from './cfn.js';
import { isProduction } from './database.js';
import { secretLogicalIds } from './secrets.js';
import { renderUserData } from './user-data.js';

/** The data volume is attached here; the user data finds it by its EBS serial, not this name. */
export const DATA_VOLUME_DEVICE = '/dev/sdf';
export const SSM_MANAGED_POLICY = 'AmazonSSMManagedInstanceCore';

const ENCRYPTED_GP3 = { VolumeType: 'gp3', Encrypted: true, KmsKeyId: getAtt('KmsKey', 'Arn') };

/**
 * cert-manager's ACME DNS-01 solver runs with the node's credentials: with a
 * public ingress it may change records in that hosted zone, and read the
 * status of its own changes (change ids are not known in advance).
 */
function acmeDnsStatements(config: EnvConfig): CfnObject[] {
  const zone = config.publicIngress.enabled ? config.publicIngress.route53HostedZoneId : undefined;
  if (!zone) return [];
  return [
    allow('AcmeDnsRecords', ['route53:ChangeResourceRecordSets', 'route53:ListResourceRecordSets'], [sub(`arn:\${AWS::Partition}:route53:::hostedzone/${zone}`)]),
    allow('AcmeDnsChanges', ['route53:GetChange'], [sub('arn:${AWS::Partition}:route53:::change/*')]),
  ];
}

function nodeRole(config: EnvConfig, stack: string): CfnResource {
  const secretArns = [...secretLogicalIds(config).map(ref), getAtt('AuroraCluster', 'MasterUserSecret.SecretArn')];
  return {
    Type: 'AWS::IAM::Role',
    Properties: {
      Description: `${stack}: the K3s node and, through IMDSv2, External Secrets`,
      AssumeRolePolicyDocument: {
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }],
      },
      ManagedPolicyArns: [sub(`arn:\${AWS::Partition}:iam::aws:policy/${SSM_MANAGED_POLICY}`)],
      Policies: [
        {
          PolicyName: 'node',
          PolicyDocument: {
            Version: '2012-10-17',
            Statement: [
              allow('ReadEnvironmentSecrets', ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'], secretArns),
              allow('UseStackKey', ['kms:Decrypt', 'kms:GenerateDataKey', 'kms:DescribeKey'], [getAtt('KmsKey', 'Arn')]),
              allow('ListBuckets', ['s3:ListBucket', 's3:GetBucketLocation'], [
                getAtt('EtcdSnapshotsBucket', 'Arn'),
                getAtt('LonghornBackupsBucket', 'Arn'),
                getAtt('KubeconfigBucket', 'Arn'),
              ]),
              allow('EtcdSnapshots', ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'], [bucketArn('EtcdSnapshotsBucket', `/${ETCD_SNAPSHOT_FOLDER}/*`)]),
              allow('LonghornBackups', ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'], [bucketArn('LonghornBackupsBucket', `/${LONGHORN_BACKUP_PREFIX}/*`)]),
              allow('UploadKubeconfig', ['s3:PutObject'], [bucketArn('KubeconfigBucket', `/${KUBECONFIG_KEY}`)]),
              ...acmeDnsStatements(config),
            ],
          },
        },
      ],
      Tags: tags(stack, 'node'),
    },
  };
}

export function nodeResources(config: EnvConfig, stack: string): Resources {
  const production = isProduction(config);
  return {
    NodeRole: nodeRole(config, stack),
    NodeInstanceProfile: { Type: 'AWS::IAM::InstanceProfile', Properties: { Roles: [ref('NodeRole')] } },
    NodeInstance: {
      Type: 'AWS::EC2::Instance',
      DependsOn: ['PublicDefaultRoute'],
      Properties: {
        ImageId: ref('NodeAmiId'),
        InstanceType: ref('NodeInstanceType'),
        IamInstanceProfile: ref('NodeInstanceProfile'),
        MetadataOptions: { HttpEndpoint: 'enabled', HttpTokens: 'required', HttpPutResponseHopLimit: 2, InstanceMetadataTags: 'disabled' },
        Monitoring: true,
        EbsOptimized: true,
        DisableApiTermination: production,
        BlockDeviceMappings: [{ DeviceName: config.node.rootDeviceName, Ebs: { ...ENCRYPTED_GP3, VolumeSize: ref('NodeRootVolumeGiB'), DeleteOnTermination: true } }],
        NetworkInterfaces: [
          {
            DeviceIndex: '0',
            SubnetId: ref('PublicSubnet'),
            GroupSet: [getAtt('NodeSecurityGroup', 'GroupId')],
            AssociatePublicIpAddress: true,
            DeleteOnTermination: true,
          },
        ],
        UserData: { 'Fn::Base64': renderUserData(config) },
        Tags: tags(stack, 'k3s'),
      },
      Metadata: checkovSkips([
        { id: 'CKV_AWS_88', comment: 'outbound internet without a NAT gateway; the security group admits nothing from the internet except 443 when a public ingress is chosen' },
      ]),
    },
    // A volume of its own, so Longhorn data outlives a replaced node and is snapshotted on deletion.
    NodeDataVolume: {
      Type: 'AWS::EC2::Volume',
      ...SNAPSHOT,
      Properties: { ...ENCRYPTED_GP3, Size: ref('NodeDataVolumeGiB'), AvailabilityZone: getAtt('PublicSubnet', 'AvailabilityZone'), Tags: tags(stack, 'longhorn-data') },
    },
    NodeDataVolumeAttachment: {
      Type: 'AWS::EC2::VolumeAttachment',
      Properties: { InstanceId: ref('NodeInstance'), VolumeId: ref('NodeDataVolume'), Device: DATA_VOLUME_DEVICE },
    },
  };
}
