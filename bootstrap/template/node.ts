/**
 * The K3s servers: one EC2 instance per server (stable identities, one per
 * zone in turn) from the environment's pinned AMI with IMDSv2 required (hop
 * limit 2, so External Secrets in a pod can use the instance profile),
 * encrypted gp3 volumes, detailed monitoring, termination protection in
 * production, and an instance profile that can read only this environment's
 * secrets and buckets (plus SSM core for Session Manager). Agents use a role
 * without the servers' etcd-snapshot and kubeconfig rights
 * (bootstrap/template/agents.ts).
 */
import type { EnvConfig } from '../../generator/config/schema.js';
import { LONGHORN_BACKUP_PREFIX } from '../../generator/platform-names.js';
import { serverZones } from '../../generator/cluster/topology.js';
import { CLUSTER_MARKER_KEY, currentServerIds, ETCD_SNAPSHOT_FOLDER, KUBECONFIG_KEY } from '../names.js';
import { allow, bucketArn, checkovSkips, getAtt, ref, SNAPSHOT, sub, tags, type CfnObject, type CfnResource, type Resources } from './cfn.js';
import { activeAuroraCluster, isProduction } from './database.js';
import { secretLogicalIds } from './secrets.js';
import { publicSubnetId } from './network.js';
import { userDataValue } from './user-data.js';

/** The data volume is attached here; the user data finds it by its EBS serial, not this name. */
export const DATA_VOLUME_DEVICE = '/dev/sdf';
export const SSM_MANAGED_POLICY = 'AmazonSSMManagedInstanceCore';

/** IMDSv2 only, hop limit 2 (pods on the node reach the instance profile), no instance tags in metadata. */
export const METADATA_OPTIONS = { HttpEndpoint: 'enabled', HttpTokens: 'required', HttpPutResponseHopLimit: 2, InstanceMetadataTags: 'disabled' } as const;

export type NodeKind = 'server' | 'agent';

export const ENCRYPTED_GP3 = { VolumeType: 'gp3', Encrypted: true, KmsKeyId: getAtt('KmsKey', 'Arn') };

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

/** The role of the servers, or of the agents (no etcd snapshots, no kubeconfig or cluster marker). */
export function nodeRole(config: EnvConfig, stack: string, kind: NodeKind = 'server'): CfnResource {
  const server = kind === 'server';
  const clusterMarker = server && config.cluster.servers > 1;
  const secretArns = [...secretLogicalIds(config).map(ref), getAtt(activeAuroraCluster(config), 'MasterUserSecret.SecretArn')];
  return {
    Type: 'AWS::IAM::Role',
    Properties: {
      Description: server ? `${stack}: the K3s node and, through IMDSv2, External Secrets` : `${stack}: the K3s agents and, through IMDSv2, External Secrets and Longhorn on them`,
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
              allow(
                'ListBuckets',
                ['s3:ListBucket', 's3:GetBucketLocation'],
                server ? [getAtt('EtcdSnapshotsBucket', 'Arn'), getAtt('LonghornBackupsBucket', 'Arn'), getAtt('KubeconfigBucket', 'Arn')] : [getAtt('LonghornBackupsBucket', 'Arn')],
              ),
              ...(server ? [allow('EtcdSnapshots', ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'], [bucketArn('EtcdSnapshotsBucket', `/${ETCD_SNAPSHOT_FOLDER}/*`)])] : []),
              allow('LonghornBackups', ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'], [bucketArn('LonghornBackupsBucket', `/${LONGHORN_BACKUP_PREFIX}/*`)]),
              ...(server ? [allow('UploadKubeconfig', ['s3:PutObject'], [bucketArn('KubeconfigBucket', `/${KUBECONFIG_KEY}`)])] : []),
              // A replaced first server reads it to join instead of starting a second cluster.
              ...(clusterMarker ? [allow('ClusterMarker', ['s3:GetObject', 's3:PutObject'], [bucketArn('KubeconfigBucket', `/${CLUSTER_MARKER_KEY}`)])] : []),
              ...acmeDnsStatements(config),
            ],
          },
        },
      ],
      Tags: tags(stack, server ? 'node' : 'agent'),
    },
  };
}

/** AMI of server `index`: held by cluster.serverAmiOverrides while the others move, else node.amiId. */
function serverImage(config: EnvConfig, index: number) {
  const held = config.cluster.serverAmiOverrides.find((override) => override.server === index);
  return held ? held.amiId : ref('NodeAmiId');
}

/** One server: its instance in its zone's subnet, and its own Longhorn data volume in the same zone. */
function serverResources(config: EnvConfig, stack: string, index: number, zone: number): Resources {
  const ids = currentServerIds(config, index);
  const subnet = publicSubnetId(zone);
  const previous = index > 1 ? [currentServerIds(config, index - 1).instance] : [];
  const name = index === 1 ? 'k3s' : `k3s-server-${index}`;
  return {
    [ids.instance]: {
      Type: 'AWS::EC2::Instance',
      // One server after the other: created in order (the first starts the cluster) and, when a change
      // stops and starts them, restarted one at a time rather than all at once.
      DependsOn: ['PublicDefaultRoute', ...previous],
      Properties: {
        ImageId: serverImage(config, index),
        InstanceType: ref('NodeInstanceType'),
        IamInstanceProfile: ref('NodeInstanceProfile'),
        MetadataOptions: { ...METADATA_OPTIONS },
        Monitoring: true,
        EbsOptimized: true,
        DisableApiTermination: isProduction(config),
        BlockDeviceMappings: [{ DeviceName: config.node.rootDeviceName, Ebs: { ...ENCRYPTED_GP3, VolumeSize: ref('NodeRootVolumeGiB'), DeleteOnTermination: true } }],
        NetworkInterfaces: [
          {
            DeviceIndex: '0',
            SubnetId: ref(subnet),
            GroupSet: [getAtt('NodeSecurityGroup', 'GroupId')],
            AssociatePublicIpAddress: true,
            DeleteOnTermination: true,
          },
        ],
        UserData: userDataValue(config, { role: 'server', index }),
        Tags: tags(stack, name),
      },
      Metadata: checkovSkips([
        { id: 'CKV_AWS_88', comment: 'outbound internet without a NAT gateway; the security group admits nothing from the internet except 443 when a public ingress is chosen' },
      ]),
    },
    // A volume of its own, so Longhorn data outlives a replaced server and is snapshotted on deletion.
    [ids.dataVolume]: {
      Type: 'AWS::EC2::Volume',
      ...SNAPSHOT,
      Properties: { ...ENCRYPTED_GP3, Size: ref('NodeDataVolumeGiB'), AvailabilityZone: getAtt(subnet, 'AvailabilityZone'), Tags: tags(stack, index === 1 ? 'longhorn-data' : `longhorn-data-${index}`) },
    },
    [ids.attachment]: {
      Type: 'AWS::EC2::VolumeAttachment',
      Properties: { InstanceId: ref(ids.instance), VolumeId: ref(ids.dataVolume), Device: DATA_VOLUME_DEVICE },
    },
  };
}

export function nodeResources(config: EnvConfig, stack: string): Resources {
  const servers = serverZones(config).map((zone, position) => serverResources(config, stack, position + 1, zone));
  return {
    NodeRole: nodeRole(config, stack),
    NodeInstanceProfile: { Type: 'AWS::IAM::InstanceProfile', Properties: { Roles: [ref('NodeRole')] } },
    ...Object.assign({}, ...servers),
  };
}
