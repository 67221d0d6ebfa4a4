/**
 * What a cluster of several nodes adds to the stack: the traffic the nodes
 * exchange (only between themselves, through their security group, never
 * from the internet), the internal Network Load Balancer that is the fixed
 * registration address of the K3s servers, and the agent pool (a launch
 * template and an Auto Scaling group across the zones that replaces agents
 * one at a time when the launch template changes).
 *
 * K3s serves its supervisor (where agents and joining servers register) and
 * the Kubernetes API on the same port, 6443; 9345 is RKE2's supervisor port
 * and is not opened. The pod network is flannel's default VXLAN backend.
 */
import type { EnvConfig } from '../../generator/config/schema.js';
import { isProduction } from './database.js';
import { checkovSkips, getAtt, ref, sub, tags, type CfnObject, type Resources } from './cfn.js';
import { publicSubnetIds } from './network.js';
import { DATA_VOLUME_DEVICE, ENCRYPTED_GP3, METADATA_OPTIONS, nodeRole } from './node.js';
import { currentServerIds } from '../names.js';
import { hasRegistrationAddress, REGISTRATION_LOAD_BALANCER, userDataValue } from './user-data.js';

export const SUPERVISOR_PORT = 6443;

/** Ports the nodes open to each other (and only to each other). */
export const NODE_TO_NODE: { id: string; protocol: 'tcp' | 'udp'; from: number; to: number; why: string }[] = [
  { id: 'Supervisor', protocol: 'tcp', from: SUPERVISOR_PORT, to: SUPERVISOR_PORT, why: 'K3s supervisor and Kubernetes API, from the other nodes' },
  { id: 'Etcd', protocol: 'tcp', from: 2379, to: 2380, why: 'embedded etcd client and peer traffic between servers' },
  { id: 'Kubelet', protocol: 'tcp', from: 10250, to: 10250, why: 'kubelet API (metrics-server, logs, exec)' },
  { id: 'Flannel', protocol: 'udp', from: 8472, to: 8472, why: 'flannel VXLAN: the pod network between nodes' },
];

const NODE_GROUP = getAtt('NodeSecurityGroup', 'GroupId');
const LOAD_BALANCER_GROUP = 'RegistrationLoadBalancerSecurityGroup';

function rule(protocol: string, from: number, to: number, description: string): CfnObject {
  return { IpProtocol: protocol, FromPort: from, ToPort: to, Description: description };
}

/** Ingress and egress between the nodes' own security group, one pair per port range. */
function nodeToNodeRules(): Resources {
  const resources: Resources = {};
  for (const port of NODE_TO_NODE) {
    resources[`NodeIngress${port.id}`] = {
      Type: 'AWS::EC2::SecurityGroupIngress',
      Properties: { GroupId: NODE_GROUP, SourceSecurityGroupId: NODE_GROUP, ...rule(port.protocol, port.from, port.to, port.why) },
    };
    resources[`NodeEgress${port.id}`] = {
      Type: 'AWS::EC2::SecurityGroupEgress',
      Properties: { GroupId: NODE_GROUP, DestinationSecurityGroupId: NODE_GROUP, ...rule(port.protocol, port.from, port.to, port.why) },
    };
  }
  resources['NodeIngressSupervisorFromLoadBalancer'] = {
    Type: 'AWS::EC2::SecurityGroupIngress',
    Properties: { GroupId: NODE_GROUP, SourceSecurityGroupId: getAtt(LOAD_BALANCER_GROUP, 'GroupId'), ...rule('tcp', SUPERVISOR_PORT, SUPERVISOR_PORT, 'K3s supervisor and API through the registration load balancer (and its health checks)') },
  };
  resources['NodeEgressToLoadBalancer'] = {
    Type: 'AWS::EC2::SecurityGroupEgress',
    Properties: { GroupId: NODE_GROUP, DestinationSecurityGroupId: getAtt(LOAD_BALANCER_GROUP, 'GroupId'), ...rule('tcp', SUPERVISOR_PORT, SUPERVISOR_PORT, 'nodes register through the load balancer') },
  };
  return resources;
}

function registrationResources(config: EnvConfig, stack: string): Resources {
  const subnets = publicSubnetIds(config).map(ref);
  const servers = Array.from({ length: config.cluster.servers }, (_, index) => currentServerIds(config, index + 1).instance);
  return {
    [LOAD_BALANCER_GROUP]: {
      Type: 'AWS::EC2::SecurityGroup',
      Properties: {
        GroupDescription: `Registration load balancer of ${stack}: 6443 from the nodes only`,
        VpcId: ref('Vpc'),
        SecurityGroupIngress: [{ ...rule('tcp', SUPERVISOR_PORT, SUPERVISOR_PORT, 'K3s supervisor and API from the nodes'), SourceSecurityGroupId: NODE_GROUP }],
        SecurityGroupEgress: [{ ...rule('tcp', SUPERVISOR_PORT, SUPERVISOR_PORT, 'to the K3s servers'), DestinationSecurityGroupId: NODE_GROUP }],
        Tags: tags(stack, 'registration'),
      },
    },
    [REGISTRATION_LOAD_BALANCER]: {
      Type: 'AWS::ElasticLoadBalancingV2::LoadBalancer',
      Properties: {
        Type: 'network',
        Scheme: 'internal',
        Subnets: subnets,
        SecurityGroups: [getAtt(LOAD_BALANCER_GROUP, 'GroupId')],
        LoadBalancerAttributes: [
          { Key: 'load_balancing.cross_zone.enabled', Value: 'true' },
          { Key: 'deletion_protection.enabled', Value: String(isProduction(config)) },
        ],
        Tags: tags(stack, 'registration'),
      },
      Metadata: checkovSkips([
        { id: 'CKV_AWS_91', comment: 'a Network Load Balancer writes access logs only for TLS listeners; this TCP pass-through listener (K3s terminates TLS) has none, and VPC flow logs record its traffic' },
      ]),
    },
    RegistrationTargetGroup: {
      Type: 'AWS::ElasticLoadBalancingV2::TargetGroup',
      Properties: {
        Protocol: 'TCP',
        Port: SUPERVISOR_PORT,
        VpcId: ref('Vpc'),
        TargetType: 'instance',
        // K3s answers /ping on 6443 without credentials; the load balancer does not check the certificate.
        HealthCheckProtocol: 'HTTPS',
        HealthCheckPort: String(SUPERVISOR_PORT),
        HealthCheckPath: '/ping',
        HealthCheckIntervalSeconds: 10,
        HealthyThresholdCount: 2,
        UnhealthyThresholdCount: 2,
        Targets: servers.map((id) => ({ Id: ref(id), Port: SUPERVISOR_PORT })),
        TargetGroupAttributes: [
          // The source is the load balancer, so a server can reach the address even when it is routed to itself.
          { Key: 'preserve_client_ip.enabled', Value: 'false' },
          { Key: 'deregistration_delay.timeout_seconds', Value: '30' },
        ],
        Tags: tags(stack, 'registration'),
      },
    },
    RegistrationListener: {
      Type: 'AWS::ElasticLoadBalancingV2::Listener',
      Properties: {
        LoadBalancerArn: ref(REGISTRATION_LOAD_BALANCER),
        Port: SUPERVISOR_PORT,
        Protocol: 'TCP',
        DefaultActions: [{ Type: 'forward', TargetGroupArn: ref('RegistrationTargetGroup') }],
      },
    },
  };
}

/**
 * The Auto Scaling group launches the agents with this service-linked role,
 * one of the stack's own (custom suffix): the stack's KMS key lets exactly
 * this role encrypt the agents' volumes. The account's default Auto Scaling
 * role cannot be named in the key policy before it exists, and its managed
 * policy grants no KMS rights.
 */
export function agentServiceLinkedRoleName(stack: string): string {
  return `AWSServiceRoleForAutoScaling_${stack}`;
}

export const AGENT_SERVICE_LINKED_ROLE = 'AgentServiceLinkedRole';

const agentServiceLinkedRoleArn = (stack: string) => sub(`arn:\${AWS::Partition}:iam::\${AWS::AccountId}:role/aws-service-role/autoscaling.amazonaws.com/${agentServiceLinkedRoleName(stack)}`);

/** Key-policy statements that let the agents' Auto Scaling role use the stack's key for their EBS volumes (none without agents). */
export function agentKeyStatements(config: EnvConfig, stack: string): CfnObject[] {
  if (!hasRegistrationAddress(config) || config.cluster.agents.max === 0) return [];
  const principal = { AWS: agentServiceLinkedRoleArn(stack) };
  return [
    { Sid: 'AgentVolumesThroughAutoScaling', Effect: 'Allow', Principal: principal, Action: ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:DescribeKey'], Resource: '*' },
    { Sid: 'AgentVolumeGrantsThroughAutoScaling', Effect: 'Allow', Principal: principal, Action: 'kms:CreateGrant', Resource: '*', Condition: { Bool: { 'kms:GrantIsForAWSResource': true } } },
  ];
}

function agentResources(config: EnvConfig, stack: string): Resources {
  const { agents } = config.cluster;
  return {
    [AGENT_SERVICE_LINKED_ROLE]: {
      Type: 'AWS::IAM::ServiceLinkedRole',
      Properties: { AWSServiceName: 'autoscaling.amazonaws.com', CustomSuffix: stack, Description: `${stack}: launches the K3s agents (the stack's KMS key allows it)` },
    },
    AgentRole: nodeRole(config, stack, 'agent'),
    AgentInstanceProfile: { Type: 'AWS::IAM::InstanceProfile', Properties: { Roles: [ref('AgentRole')] } },
    AgentLaunchTemplate: {
      Type: 'AWS::EC2::LaunchTemplate',
      Properties: {
        LaunchTemplateData: {
          ImageId: ref('NodeAmiId'),
          InstanceType: ref('AgentInstanceType'),
          IamInstanceProfile: { Arn: getAtt('AgentInstanceProfile', 'Arn') },
          MetadataOptions: { ...METADATA_OPTIONS },
          Monitoring: { Enabled: true },
          EbsOptimized: true,
          BlockDeviceMappings: [
            { DeviceName: config.node.rootDeviceName, Ebs: { ...ENCRYPTED_GP3, VolumeSize: ref('NodeRootVolumeGiB'), DeleteOnTermination: true } },
            // Deleted with the agent: Longhorn keeps the replicas of its volumes on other nodes.
            { DeviceName: DATA_VOLUME_DEVICE, Ebs: { ...ENCRYPTED_GP3, VolumeSize: ref('AgentDataVolumeGiB'), DeleteOnTermination: true } },
          ],
          NetworkInterfaces: [{ DeviceIndex: 0, AssociatePublicIpAddress: true, Groups: [NODE_GROUP], DeleteOnTermination: true }],
          UserData: userDataValue(config, { role: 'agent' }),
          TagSpecifications: [
            { ResourceType: 'instance', Tags: tags(stack, 'k3s-agent') },
            { ResourceType: 'volume', Tags: tags(stack, 'k3s-agent') },
          ],
        },
        TagSpecifications: [{ ResourceType: 'launch-template', Tags: tags(stack, 'k3s-agent') }],
      },
      Metadata: checkovSkips([
        { id: 'CKV_AWS_88', comment: 'outbound internet without a NAT gateway; the security group admits nothing from the internet except 443 when a public ingress is chosen' },
      ]),
    },
    AgentGroup: {
      Type: 'AWS::AutoScaling::AutoScalingGroup',
      DependsOn: ['PublicDefaultRoute', 'RegistrationListener', AGENT_SERVICE_LINKED_ROLE],
      Properties: {
        ServiceLinkedRoleARN: agentServiceLinkedRoleArn(stack),
        MinSize: ref('AgentMinSize'),
        MaxSize: ref('AgentMaxSize'),
        DesiredCapacity: ref('AgentDesiredCapacity'),
        LaunchTemplate: { LaunchTemplateId: ref('AgentLaunchTemplate'), Version: getAtt('AgentLaunchTemplate', 'LatestVersionNumber') },
        VPCZoneIdentifier: publicSubnetIds(config).map(ref),
        HealthCheckType: 'EC2',
        HealthCheckGracePeriod: 600,
        Tags: [
          { Key: 'Name', Value: `${stack}-k3s-agent`, PropagateAtLaunch: true },
          { Key: 'dubai-hub:stack', Value: stack, PropagateAtLaunch: true },
        ],
      },
      // A new launch template version (AMI, instance type, user data) replaces the agents one at a time,
      // keeping the desired count in service; CloudFormation rolls back if a replacement fails.
      UpdatePolicy: {
        AutoScalingRollingUpdate: { MaxBatchSize: 1, MinInstancesInService: Math.min(agents.desired, Math.max(0, agents.max - 1)), PauseTime: 'PT5M' },
      },
    },
  };
}

export function clusterResources(config: EnvConfig, stack: string): Resources {
  if (!hasRegistrationAddress(config)) return {};
  return {
    ...nodeToNodeRules(),
    ...registrationResources(config, stack),
    ...(config.cluster.agents.max > 0 ? agentResources(config, stack) : {}),
  };
}
