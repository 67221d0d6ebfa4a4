/**
 * The K3s servers: one EC2 instance per server (stable identities, one per
 * zone in turn) from the environment's pinned AMI with IMDSv2 required and a
 * hop limit of 1 (no pod reaches the instance profile; pods that call AWS use
 * workload identity, bootstrap/template/identity.ts), encrypted gp3 volumes,
 * detailed monitoring, termination protection in production, and an instance
 * profile with only what the node itself needs: its boot secrets, etcd
 * snapshots, the kubeconfig upload and the OIDC documents (plus SSM core for
 * Session Manager). Agents use a role with only their boot secrets
 * (bootstrap/template/cluster.ts).
 */
import type { EnvConfig } from '../../generator/config/schema.js';
import { GENERATED_SECRETS, MANUAL_SECRETS, NODE_SECRETS } from '../../generator/platform-names.js';
import { serverZones } from '../../generator/cluster/topology.js';
import { CLUSTER_MARKER_KEY, currentServerIds, ETCD_SNAPSHOT_FOLDER, KUBECONFIG_KEY, OIDC_DOCUMENTS, secretLogicalId } from '../names.js';
import { allow, bucketArn, checkovSkips, getAtt, ref, SNAPSHOT, sub, tags, type CfnObject, type CfnResource, type Resources } from './cfn.js';
import { isProduction } from './database.js';
import { OIDC_BUCKET } from './identity.js';
import { publicSubnetId } from './network.js';
import { userDataValue } from './user-data.js';

/** The data volume is attached here; the user data finds it by its EBS serial, not this name. */
export const DATA_VOLUME_DEVICE = '/dev/sdf';
export const SSM_MANAGED_POLICY = 'AmazonSSMManagedInstanceCore';

/** IMDSv2 only, hop limit 1 (a pod's packets take a second hop and never reach the instance profile), no instance tags in metadata. */
export const METADATA_OPTIONS = { HttpEndpoint: 'enabled', HttpTokens: 'required', HttpPutResponseHopLimit: 1, InstanceMetadataTags: 'disabled' } as const;

export type NodeKind = 'server' | 'agent';

export const ENCRYPTED_GP3 = { VolumeType: 'gp3', Encrypted: true, KmsKeyId: getAtt('KmsKey', 'Arn') };

/**
 * The secrets a node reads while it boots: the K3s token and its tailnet key;
 * a server also the signing key and, with a private repository, the git
 * credentials it seeds Argo CD with. Nothing else: External Secrets has its own role.
 */
export function bootSecrets(config: EnvConfig, kind: NodeKind): string[] {
  const secrets: string[] = [GENERATED_SECRETS.k3sToken, MANUAL_SECRETS.tailscaleAuthKey];
  if (kind === 'server') {
    secrets.push(NODE_SECRETS.serviceAccountSigningKey);
    if (config.git.credentialsSecret) secrets.push(config.git.credentialsSecret);
  }
  return secrets;
}

/** The role of the servers, or of the agents (no etcd snapshots, no kubeconfig or cluster marker). */
export function nodeRole(config: EnvConfig, stack: string, kind: NodeKind = 'server'): CfnResource {
  const server = kind === 'server';
  const clusterMarker = server && config.cluster.servers > 1;
  const signingKey = ref(secretLogicalId(NODE_SECRETS.serviceAccountSigningKey));
  return {
    Type: 'AWS::IAM::Role',
    Properties: {
      Description: server ? `${stack}: the K3s servers themselves (no pod reaches it: hop limit 1)` : `${stack}: the K3s agents themselves (no pod reaches it: hop limit 1)`,
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
              allow('ReadBootSecrets', ['secretsmanager:GetSecretValue'], bootSecrets(config, kind).map((reference) => ref(secretLogicalId(reference)))),
              allow('UseStackKey', ['kms:Decrypt', 'kms:GenerateDataKey'], [getAtt('KmsKey', 'Arn')]),
              ...(server
                ? [
                    // The first server generates the signing key and stores it; the other servers read it.
                    allow('StoreSigningKey', ['secretsmanager:PutSecretValue'], [signingKey]),
                    allow('ListBuckets', ['s3:ListBucket', 's3:GetBucketLocation'], [getAtt('EtcdSnapshotsBucket', 'Arn'), getAtt('KubeconfigBucket', 'Arn')]),
                    allow('EtcdSnapshots', ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'], [bucketArn('EtcdSnapshotsBucket', `/${ETCD_SNAPSHOT_FOLDER}/*`)]),
                    allow('UploadKubeconfig', ['s3:PutObject'], [bucketArn('KubeconfigBucket', `/${KUBECONFIG_KEY}`)]),
                    allow('PublishOidcDocuments', ['s3:PutObject'], Object.values(OIDC_DOCUMENTS).map((key) => bucketArn(OIDC_BUCKET, `/${key}`))),
                  ]
                : []),
              // A replaced first server reads it to join instead of starting a second cluster.
              ...(clusterMarker ? [allow('ClusterMarker', ['s3:GetObject', 's3:PutObject'], [bucketArn('KubeconfigBucket', `/${CLUSTER_MARKER_KEY}`)])] : []),
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
