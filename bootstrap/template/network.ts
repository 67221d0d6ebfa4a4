/**
 * The VPC: one public subnet for the node (it needs outbound internet and no
 * NAT gateway), two private subnets in two zones for Aurora, flow logs, and
 * the two security groups. Nothing is open to the internet except 443 on the
 * node when the environment chooses a public ingress; administration goes
 * over Tailscale and SSM, never SSH, and 6443 only over the tailnet.
 */
import { zoneCount } from '../../generator/cluster/topology.js';
import type { EnvConfig } from '../../generator/config/schema.js';
import { bucketArn, getAtt, ref, selectAz, tags, type CfnObject, type Resources } from './cfn.js';

/** Logical id of the public subnet of zone `zone` (0-based): the single node's PublicSubnet, then PublicSubnetB and PublicSubnetC. */
export function publicSubnetId(zone: number): string {
  return zone === 0 ? 'PublicSubnet' : `PublicSubnet${String.fromCharCode(65 + zone)}`;
}

export function publicSubnetIds(config: EnvConfig): string[] {
  return Array.from({ length: zoneCount(config) }, (_, zone) => publicSubnetId(zone));
}

export const INTERNET = '0.0.0.0/0';
export const POSTGRES_PORT = 5432;

/** Outbound traffic the node needs: package mirrors (80/443), AWS APIs and LLM providers (443), Tailscale (UDP). */
export const NODE_EGRESS: { protocol: 'tcp' | 'udp'; port: number; why: string }[] = [
  { protocol: 'tcp', port: 80, why: 'package mirrors (apt/dnf) over HTTP' },
  { protocol: 'tcp', port: 443, why: 'AWS APIs, LLM providers, chart and image registries, Tailscale control and DERP' },
  { protocol: 'udp', port: 3478, why: 'Tailscale STUN (NAT traversal)' },
  { protocol: 'udp', port: 41641, why: 'Tailscale direct WireGuard connections' },
];

function egressRule(protocol: string, port: number, description: string): CfnObject {
  return { IpProtocol: protocol, FromPort: port, ToPort: port, CidrIp: INTERNET, Description: description };
}

export function networkResources(config: EnvConfig, stack: string): Resources {
  const { network } = config;
  const subnet = (cidr: string, az: number, name: string) => ({
    Type: 'AWS::EC2::Subnet',
    Properties: { VpcId: ref('Vpc'), CidrBlock: cidr, AvailabilityZone: selectAz(az), MapPublicIpOnLaunch: false, Tags: tags(stack, name) },
  });
  const association = (subnetId: string, table: string) => ({
    Type: 'AWS::EC2::SubnetRouteTableAssociation',
    Properties: { SubnetId: ref(subnetId), RouteTableId: ref(table) },
  });
  const ingress443 = config.publicIngress.enabled
    ? [{ IpProtocol: 'tcp', FromPort: 443, ToPort: 443, CidrIp: INTERNET, Description: 'public HTTPS ingress of Open WebUI (publicIngress.enabled)' }]
    : undefined;

  return {
    Vpc: {
      Type: 'AWS::EC2::VPC',
      Properties: { CidrBlock: network.vpcCidr, EnableDnsHostnames: true, EnableDnsSupport: true, Tags: tags(stack, 'vpc') },
    },
    VpcFlowLog: {
      Type: 'AWS::EC2::FlowLog',
      Properties: {
        ResourceId: ref('Vpc'),
        ResourceType: 'VPC',
        TrafficType: 'ALL',
        LogDestinationType: 's3',
        LogDestination: bucketArn('AccessLogsBucket', '/vpc-flow-logs/'),
        Tags: tags(stack, 'flow-log'),
      },
      DependsOn: 'AccessLogsBucketPolicy',
    },
    InternetGateway: { Type: 'AWS::EC2::InternetGateway', Properties: { Tags: tags(stack, 'igw') } },
    VpcGatewayAttachment: { Type: 'AWS::EC2::VPCGatewayAttachment', Properties: { VpcId: ref('Vpc'), InternetGatewayId: ref('InternetGateway') } },
    PublicSubnet: subnet(network.publicSubnetCidr, 0, 'public'),
    ...Object.fromEntries(
      network.additionalPublicSubnetCidrs.flatMap((cidr, index) => {
        const id = publicSubnetId(index + 1);
        return [
          [id, subnet(cidr, index + 1, `public-${String.fromCharCode(97 + index + 1)}`)],
          [`${id}RouteTableAssociation`, association(id, 'PublicRouteTable')],
        ];
      }),
    ),
    PublicRouteTable: { Type: 'AWS::EC2::RouteTable', Properties: { VpcId: ref('Vpc'), Tags: tags(stack, 'public') } },
    PublicDefaultRoute: {
      Type: 'AWS::EC2::Route',
      DependsOn: 'VpcGatewayAttachment',
      Properties: { RouteTableId: ref('PublicRouteTable'), DestinationCidrBlock: INTERNET, GatewayId: ref('InternetGateway') },
    },
    PublicSubnetRouteTableAssociation: association('PublicSubnet', 'PublicRouteTable'),
    PrivateSubnetA: subnet(network.privateSubnetCidrs[0]!, 0, 'private-a'),
    PrivateSubnetB: subnet(network.privateSubnetCidrs[1]!, 1, 'private-b'),
    PrivateRouteTable: { Type: 'AWS::EC2::RouteTable', Properties: { VpcId: ref('Vpc'), Tags: tags(stack, 'private') } },
    PrivateSubnetARouteTableAssociation: association('PrivateSubnetA', 'PrivateRouteTable'),
    PrivateSubnetBRouteTableAssociation: association('PrivateSubnetB', 'PrivateRouteTable'),

    NodeSecurityGroup: {
      Type: 'AWS::EC2::SecurityGroup',
      Properties: {
        GroupDescription: `K3s node of ${stack}: no SSH, no Kubernetes API from the internet (Tailscale and SSM only)`,
        VpcId: ref('Vpc'),
        SecurityGroupIngress: ingress443,
        SecurityGroupEgress: NODE_EGRESS.map((rule) => egressRule(rule.protocol, rule.port, rule.why)),
        Tags: tags(stack, 'node'),
      },
    },
    NodeEgressToAurora: {
      Type: 'AWS::EC2::SecurityGroupEgress',
      Properties: {
        GroupId: getAtt('NodeSecurityGroup', 'GroupId'),
        IpProtocol: 'tcp',
        FromPort: POSTGRES_PORT,
        ToPort: POSTGRES_PORT,
        DestinationSecurityGroupId: getAtt('AuroraSecurityGroup', 'GroupId'),
        Description: 'PostgreSQL to Aurora',
      },
    },
    AuroraSecurityGroup: {
      Type: 'AWS::EC2::SecurityGroup',
      Properties: {
        GroupDescription: `Aurora of ${stack}: PostgreSQL from the K3s node only`,
        VpcId: ref('Vpc'),
        SecurityGroupEgress: [{ IpProtocol: '-1', CidrIp: '127.0.0.1/32', Description: 'no outbound traffic (placeholder rule replaces the default allow-all)' }],
        Tags: tags(stack, 'aurora'),
      },
    },
    AuroraIngressFromNode: {
      Type: 'AWS::EC2::SecurityGroupIngress',
      Properties: {
        GroupId: getAtt('AuroraSecurityGroup', 'GroupId'),
        IpProtocol: 'tcp',
        FromPort: POSTGRES_PORT,
        ToPort: POSTGRES_PORT,
        SourceSecurityGroupId: getAtt('NodeSecurityGroup', 'GroupId'),
        Description: 'PostgreSQL from the K3s node',
      },
    },
  };
}
