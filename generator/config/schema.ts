/**
 * The environment config schema: the one source of truth for
 * `environments/<env>.yaml`. The JSON Schema file editors use
 * (`environments/environment.schema.json`) is written from this module by
 * `npm run render`, and the TypeScript type `EnvConfig` is derived from it, so
 * the two cannot drift (a test compares the committed file with this module).
 */
import type { Static } from '@sinclair/typebox';
import { bool, int, list, num, obj, oneOf, optional, str } from './schema-builders.js';
import { RFC3339_UTC_PATTERN } from './timestamps.js';

/** Kubernetes resource quantities, as the API accepts them. */
const CPU_PATTERN = '^([0-9]+m|[0-9]+(\\.[0-9]{1,3})?)$';
const MEMORY_PATTERN = '^[0-9]+(Ki|Mi|Gi|Ti)$';
const IMAGE_TAG_PATTERN = '^(?!latest$)[A-Za-z0-9_][A-Za-z0-9_.+-]{0,127}$';
const CIDR_PATTERN = '^([0-9]{1,3}\\.){3}[0-9]{1,3}/([0-9]|[12][0-9]|3[0-2])$';
const DNS_LABEL_PATTERN = '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$';
const HOSTNAME_PATTERN = '^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.)+[a-z]{2,63}$';

/**
 * A reference to a secret in AWS Secrets Manager, by name relative to
 * `secretsManager.prefix`. Never the secret value itself: the semantic checks
 * refuse strings that look like keys.
 */
export const secretReference = (description: string, example: string) =>
  str({
    description: `${description} A Secrets Manager secret name relative to secretsManager.prefix, never the value.`,
    pattern: '^[A-Za-z0-9][A-Za-z0-9/_+=.@-]{0,199}$',
    examples: [example],
  });

/** The buckets that hold backups, which backups.replication can copy to another region. */
export const REPLICATED_BUCKETS = ['etcdSnapshots', 'longhornBackups', 'attachments'] as const;

const IMAGE_DIGEST_PATTERN = '^sha256:[a-f0-9]{64}$';

/** `pinned` is `tag` or `tag@sha256:<digest>` (Renovate writes the digest there: see renovate.json). */
const image = (repository: string, pinned: string, what: string) => {
  const [tag, digest] = pinned.split('@') as [string, string | undefined];
  return obj(
    {
      repository: str({ description: `Container image repository of ${what}.`, default: repository, pattern: '^[a-z0-9.-]+(:[0-9]+)?(/[a-z0-9._-]+)+$' }),
      tag: str({
        description: `Pinned image tag of ${what} (never "latest"; Renovate moves it).`,
        default: tag,
        pattern: IMAGE_TAG_PATTERN,
      }),
      digest: optional(
        str({
          description: `Optional content digest of ${what}'s tag (Renovate pins it); the image is then pulled as repository:tag@digest.`,
          pattern: IMAGE_DIGEST_PATTERN,
          examples: [`sha256:${'0'.repeat(64)}`],
        }),
      ),
    },
    { description: `Container image of ${what}.`, default: digest ? { repository, tag, digest } : { repository, tag } },
  );
};

const resources = (what: string, cpu: string, memory: string, memoryLimit: string) =>
  obj(
    {
      requests: obj(
        {
          cpu: str({ description: `CPU request of ${what}.`, default: cpu, pattern: CPU_PATTERN }),
          memory: str({ description: `Memory request of ${what}.`, default: memory, pattern: MEMORY_PATTERN }),
        },
        { description: `Resources the scheduler reserves for ${what}.`, default: { cpu, memory } },
      ),
      limits: obj(
        {
          memory: str({ description: `Memory limit of ${what} (the container is killed above it).`, default: memoryLimit, pattern: MEMORY_PATTERN }),
          cpu: optional(str({ description: `Optional CPU limit of ${what}; usually left unset to avoid throttling.`, examples: ['2'], pattern: CPU_PATTERN })),
        },
        { description: `Limits of ${what}. A memory limit is always set.`, default: { memory: memoryLimit } },
      ),
    },
    {
      description: `CPU and memory of one ${what} container.`,
      default: { requests: { cpu, memory }, limits: { memory: memoryLimit } },
    },
  );

const chart = (name: string, repoURL: string, version: string, what: string) =>
  obj(
    {
      chart: str({ description: `Helm chart name of ${what}.`, default: name, pattern: '^[a-z0-9][a-z0-9-]*$' }),
      repoURL: str({ description: `Helm repository of ${what}.`, default: repoURL, pattern: '^(https://|oci://)[^\\s]+$' }),
      version: str({ description: `Pinned chart version of ${what} (exact, no ranges).`, default: version, pattern: '^v?[0-9]+\\.[0-9]+\\.[0-9]+(-[0-9A-Za-z.-]+)?$' }),
    },
    { description: `Helm chart of ${what}.`, default: { chart: name, repoURL, version } },
  );

const model = obj(
  {
    name: str({ description: 'Public model name users pick in Open WebUI (LiteLLM model_name).', pattern: '^[A-Za-z0-9][A-Za-z0-9._:/-]{0,99}$', examples: ['gpt-4o'] }),
    model: str({
      description: 'Provider model id in LiteLLM form provider/model (litellm_params.model).',
      pattern: '^[a-z0-9_-]+/[A-Za-z0-9._:/@-]+$',
      examples: ['openai/gpt-4o', 'anthropic/claude-sonnet-4-5', 'bedrock/anthropic.claude-3-5-sonnet-20241022-v2:0'],
    }),
    apiKeySecret: secretReference('Secret holding the provider API key for this model.', 'providers/openai'),
    apiBase: optional(str({ description: 'Optional provider API base URL (https only).', pattern: '^https://[^\\s]+$', examples: ['https://my-resource.openai.azure.com'] })),
  },
  { description: 'One model LiteLLM serves.', examples: [{ name: 'gpt-4o', model: 'openai/gpt-4o', apiKeySecret: 'providers/openai' }] },
);

/** `user:<tailnet login name>` or `group:<Kubernetes group>`. */
export const ACCESS_SUBJECT_PATTERN = '^(user:[^@\\s]+@[^@\\s]+|group:[A-Za-z0-9][A-Za-z0-9:._-]*)$';

/** Who is bound to an access role: each entry one Kubernetes subject the Tailscale API server proxy impersonates. */
function accessSubjects(description: string) {
  return list(
    str({
      description: 'A tailnet user by login name (`user:alice@example.com`), or a Kubernetes group a tailnet grant impersonates (`group:platform-admins`, a group of the grant of `tailscale.com/cap/kubernetes`).',
      pattern: ACCESS_SUBJECT_PATTERN,
      examples: ['user:alice@example.com', 'group:platform-admins'],
    }),
    { description, uniqueItems: true, default: [] },
  );
}

export const envConfigSchema = obj(
  {
    name: str({ description: 'Environment name; must equal the file name (dev for environments/dev.yaml).', pattern: '^[a-z][a-z0-9-]{1,15}$', examples: ['dev'] }),
    tier: oneOf(['development', 'staging', 'production'], {
      description: 'What the environment is for. production turns on the data-safety rules (deletion protection, backups).',
      examples: ['development'],
    }),
    aws: obj(
      {
        accountId: str({ description: 'AWS account id the environment lives in; bootstrap refuses any other account.', pattern: '^[0-9]{12}$', examples: ['123456789012'] }),
        region: str({ description: 'AWS region of the node, Aurora, S3 and Secrets Manager.', pattern: '^[a-z]{2}(-gov)?-[a-z]+-[0-9]$', examples: ['me-central-1'] }),
      },
      { description: 'Where the environment runs in AWS.', examples: [{ accountId: '123456789012', region: 'me-central-1' }] },
    ),
    network: obj(
      {
        vpcCidr: str({ description: 'CIDR of the environment VPC.', pattern: CIDR_PATTERN, default: '10.40.0.0/16' }),
        publicSubnetCidr: str({ description: 'CIDR of the public subnet holding the K3s node.', pattern: CIDR_PATTERN, default: '10.40.0.0/24' }),
        privateSubnetCidrs: list(str({ description: 'CIDR of a private subnet for Aurora.', pattern: CIDR_PATTERN, examples: ['10.40.10.0/24'] }), {
          description: 'Two private subnets (two availability zones) for Aurora; pods may reach 5432 only there.',
          minItems: 2,
          maxItems: 2,
          uniqueItems: true,
          default: ['10.40.10.0/24', '10.40.11.0/24'],
        }),
        additionalPublicSubnetCidrs: list(str({ description: 'CIDR of the public subnet of one more availability zone.', pattern: CIDR_PATTERN, examples: ['10.40.1.0/24'] }), {
          description:
            'Public subnets of the second and third availability zone (one per zone), for the servers and agents of a cluster spread across zones; publicSubnetCidr is the first zone. Empty: one zone.',
          maxItems: 2,
          uniqueItems: true,
          default: [],
        }),
      },
      { description: 'The VPC layout. NetworkPolicies use the private subnets for the Aurora egress rule.', default: {} },
    ),
    k3s: obj(
      {
        version: str({
          description: 'Pinned K3s release; its Kubernetes minor selects the schemas manifests are validated against.',
          pattern: '^v1\\.[0-9]+\\.[0-9]+\\+k3s[0-9]+$',
          default: 'v1.36.3+k3s1',
        }),
      },
      { description: 'The K3s cluster.', default: {} },
    ),
    systemUpgrade: obj(
      {
        controllerImage: image('docker.io/rancher/system-upgrade-controller', 'v0.20.1', 'the system-upgrade-controller (its Plan CRD is vendored under vendor/system-upgrade-controller/<tag>/)'),
        kubectlImage: image('registry.k8s.io/kubectl', 'v1.36.3@sha256:6e4fce3c83651edb91b74bc67701c5cd263dd8aa3cd4254b1798d6425a5ab789', "the kubectl of the upgrade Plans' cordon and drain Jobs (keep it within one minor of k3s.version, and a tag listed in generator/images/proven-images.ts)"),
      },
      { description: "The system-upgrade-controller that runs the K3s upgrade Plans (docs/image-digests.md: no digest of the controller's tag was obtainable offline).", default: {} },
    ),
    reloader: obj(
      {
        image: image('ghcr.io/stakater/reloader', 'v1.4.21@sha256:b253579350a835082cdad8d8736671cedaa0f8309437c894bd1bf1c2f0e0d45e', 'Reloader (stakater/Reloader), which restarts the workloads reading the RDS-managed Aurora password when RDS rotates it'),
      },
      { description: 'The reloader add-on (generator/addons/reloader.ts, docs/operations.md "Aurora master password").', default: {} },
    ),
    node: obj(
      {
        amiId: str({ description: 'Pinned AMI of the K3s node (Ubuntu 24.04: the node script installs with apt, docs/node-software.md), per environment.', pattern: '^ami-[0-9a-f]{8,17}$', examples: ['ami-0a1b2c3d4e5f67890'] }),
        instanceType: str({ description: 'EC2 instance type of the K3s node.', pattern: '^[a-z][a-z0-9-]*\\.[a-z0-9]+$', default: 't3.xlarge' }),
        rootVolumeGiB: int({ description: 'Size of the encrypted gp3 root volume.', minimum: 30, maximum: 1000, default: 50 }),
        dataVolumeGiB: int({ description: 'Size of the encrypted gp3 volume for Longhorn data.', minimum: 20, maximum: 16000, default: 100 }),
        rootDeviceName: str({ description: 'Root device name of the AMI (/dev/sda1 on Ubuntu, /dev/xvda on Amazon Linux); the encrypted root volume is mapped there.', pattern: '^/dev/(sd[a-z][0-9]?|xvd[a-z])$', default: '/dev/sda1' }),
        tailscale: obj(
          {
            version: str({
              description: "Pinned Tailscale client of the node, installed from Tailscale's signed package repository (docs/node-software.md); Renovate moves it with the tailscale/tailscale releases.",
              pattern: '^[0-9]+\\.[0-9]+\\.[0-9]+$',
              default: '1.102.2',
            }),
          },
          { description: 'The Tailscale client on the node (the tailnet address of the node itself).', default: {} },
        ),
      },
      { description: 'The EC2 instance running K3s.', examples: [{ amiId: 'ami-0a1b2c3d4e5f67890' }] },
    ),
    cluster: obj(
      {
        servers: int({
          description:
            'K3s servers (control plane and embedded etcd, also running workloads): 1, or an odd number of 3 or more so etcd keeps a quorum when one fails. They are placed round-robin across the zones (1 + network.additionalPublicSubnetCidrs).',
          minimum: 1,
          maximum: 7,
          default: 1,
        }),
        agents: obj(
          {
            min: int({ description: 'Fewest agents (worker nodes) the Auto Scaling group keeps; the capacity check counts these.', minimum: 0, maximum: 50, default: 0 }),
            desired: int({ description: 'Agents the Auto Scaling group starts with (between min and max).', minimum: 0, maximum: 50, default: 0 }),
            max: int({ description: 'Most agents the Auto Scaling group may run.', minimum: 0, maximum: 50, default: 0 }),
            instanceType: str({ description: 'EC2 instance type of the agents.', pattern: '^[a-z][a-z0-9-]*\\.[a-z0-9]+$', default: 't3.xlarge' }),
            dataVolumeGiB: int({ description: 'Size of each agent\'s encrypted gp3 Longhorn data volume (deleted with the agent: Longhorn keeps replicas elsewhere).', minimum: 20, maximum: 16000, default: 100 }),
          },
          { description: 'The agent pool: an Auto Scaling group across the zones, joining through the registration address. No agents by default.', default: {} },
        ),
        whenUnsatisfiable: oneOf(['ScheduleAnyway', 'DoNotSchedule'], {
          description:
            'What the topology spread of Open WebUI and LiteLLM does when replicas cannot be kept one per node and balanced across zones: ScheduleAnyway (a single node still runs every replica) or DoNotSchedule (a replica waits rather than share a node; needs at least as many schedulable nodes as replicas).',
          default: 'ScheduleAnyway',
        }),
        serverAmiOverrides: list(
          obj(
            {
              server: int({ description: 'Server number (1 is the first server).', minimum: 1, maximum: 7, examples: [2] }),
              amiId: str({ description: 'AMI this server keeps while the others move to node.amiId.', pattern: '^ami-[0-9a-f]{8,17}$', examples: ['ami-0a1b2c3d4e5f67890'] }),
            },
            { description: 'One server held on another AMI.', examples: [{ server: 2, amiId: 'ami-0a1b2c3d4e5f67890' }] },
          ),
          {
            description:
              'Servers held on their current AMI while node.amiId moves, so an AMI change replaces one server per bootstrap run (the bootstrap refuses a change set that replaces a majority of servers at once). See docs/high-availability.md.',
            default: [],
          },
        ),
        serverGenerations: list(
          obj(
            {
              server: int({ description: 'Server number (1 is the first server).', minimum: 1, maximum: 7, examples: [1] }),
              generation: int({ description: 'Generation of this server, 2 or more; each increase gives its instance a new logical id, so CloudFormation creates a new one.', minimum: 2, maximum: 999, examples: [2] }),
            },
            { description: 'One server re-created after its instance was lost.', examples: [{ server: 1, generation: 2 }] },
          ),
          {
            description:
              'Servers whose instance was terminated or lost while the stack stayed: written by `npm run ops -- recover-node`, which bumps the generation so the next bootstrap re-creates exactly that server (its data volume stays). See docs/operations.md.',
            default: [],
          },
        ),
        etcdRestore: optional(
          obj(
            {
              snapshot: str({ description: 'Name of the etcd snapshot in the etcd bucket\'s folder (as `k3s etcd-snapshot ls` shows it).', pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$', examples: ['etcd-snapshot-k3s-dev-1764633600'] }),
              generation: int({ description: 'Generation of server 1 that restores it (cluster.serverGenerations); another generation ignores this.', minimum: 2, maximum: 999, examples: [2] }),
            },
            {
              description:
                'Written by `npm run ops -- recover-cluster`: the first server at this generation restores etcd from this snapshot once (--cluster-reset --cluster-reset-restore-path) instead of starting an empty cluster; the other servers then rejoin it. See docs/operations.md.',
              examples: [{ snapshot: 'etcd-snapshot-k3s-dev-1764633600', generation: 2 }],
            },
          ),
        ),
      },
      { description: 'Shape of the K3s cluster: servers across zones and an agent pool. Default: one server, no agents.', default: {} },
    ),
    git: obj(
      {
        repoURL: str({ description: 'Git repository Argo CD syncs rendered/ from (this repository).', pattern: '^(https://|ssh://|git@)[^\\s]+$', examples: ['https://github.com/dubai-hub/platform.git'] }),
        targetRevision: str({
          description: 'Full git ref Argo CD follows (refs/heads/<branch> or refs/tags/<tag>).',
          pattern: '^refs/(heads|tags)/[A-Za-z0-9._/-]+$',
          default: 'refs/heads/main',
        }),
        credentialsSecret: optional(
          secretReference('Only for a private repository: secret (JSON with username and password, e.g. a deploy token) Argo CD reads the repository with.', 'git/repository-credentials'),
        ),
      },
      { description: 'What Argo CD syncs.', examples: [{ repoURL: 'https://github.com/dubai-hub/platform.git' }] },
    ),
    hostnames: obj(
      {
        tailnetDomain: str({ description: 'MagicDNS domain of the tailnet.', pattern: HOSTNAME_PATTERN, examples: ['tail1a2b3c.ts.net'] }),
        openWebUI: str({ description: 'Tailnet machine name of the Open WebUI ingress (becomes <name>.<tailnetDomain>).', pattern: DNS_LABEL_PATTERN, examples: ['chat-dev'] }),
        argocd: str({ description: 'Tailnet machine name of the Argo CD UI ingress.', pattern: DNS_LABEL_PATTERN, examples: ['argocd-dev'] }),
        node: str({ description: 'Tailnet machine name of the K3s node (the Kubernetes API is reached there).', pattern: DNS_LABEL_PATTERN, examples: ['k3s-dev'] }),
      },
      { description: 'Names under which people reach the environment over Tailscale.', examples: [{ tailnetDomain: 'tail1a2b3c.ts.net', openWebUI: 'chat-dev', argocd: 'argocd-dev', node: 'k3s-dev' }] },
    ),
    publicIngress: obj(
      {
        enabled: bool({ description: 'Expose Open WebUI on the internet over HTTPS (443 only). Off by default: the tailnet is the way in.', default: false }),
        host: optional(str({ description: 'Public DNS name of Open WebUI, required when enabled.', pattern: HOSTNAME_PATTERN, examples: ['chat.dubai-hub.example'] })),
        acmeEmail: optional(str({ description: 'Contact e-mail for ACME certificates, required when enabled.', pattern: '^[^@\\s]+@[^@\\s]+\\.[a-z]{2,}$', examples: ['platform@dubai-hub.example'] })),
        route53HostedZoneId: optional(
          str({
            description: 'Route 53 hosted zone of the public host, required when enabled: certificates are proven with ACME DNS-01 (port 80 stays closed), using the node instance profile.',
            pattern: '^Z[A-Z0-9]{1,31}$',
            examples: ['Z0123456789ABCDEFGHIJ'],
          }),
        ),
      },
      { description: 'Optional public HTTPS ingress for Open WebUI.', default: { enabled: false } },
    ),
    secretsManager: obj(
      {
        prefix: str({ description: 'Prefix of every Secrets Manager name of this environment; ends with "/".', pattern: '^[a-z0-9][a-z0-9/_-]*/$', examples: ['dubai/dev/'] }),
      },
      { description: 'Where the environment secrets live in AWS Secrets Manager.', examples: [{ prefix: 'dubai/dev/' }] },
    ),
    aurora: obj(
      {
        minCapacity: num({ description: 'Aurora Serverless v2 minimum capacity (ACU); 0 lets it pause.', minimum: 0, maximum: 256, multipleOf: 0.5, default: 0.5 }),
        maxCapacity: num({ description: 'Aurora Serverless v2 maximum capacity (ACU).', minimum: 1, maximum: 256, multipleOf: 0.5, default: 4 }),
        backupRetentionDays: int({ description: 'Days automated backups are kept (at least 7 in production).', minimum: 1, maximum: 35, default: 7 }),
        deletionProtection: bool({ description: 'Protect the cluster from deletion (always on in production).', default: true }),
        engineVersion: str({ description: 'Aurora PostgreSQL engine version (major.minor), upgraded on purpose in a reviewed change (a major upgrade changes the parameter group family and needs a plan), not by a bot.', pattern: '^[0-9]{2}\\.[0-9]{1,2}$', default: '17.5' }),
        readers: int({ description: 'Aurora Serverless v2 reader instances in another zone than the writer: the failover target (at least 1 in production).', minimum: 0, maximum: 2, default: 0 }),
        clientImage: image('docker.io/library/postgres', '17.6-alpine@sha256:ef257d85f76e48da1c64832459b59fcaba1a4dac97bf5d7450c77753542eee94', 'the PostgreSQL client of the database set-up Job'),
        restores: list(
          obj(
            {
              generation: int({ description: 'Generation of the restored cluster, 2 or more (1 is the original AuroraCluster); the cluster is AuroraClusterG<n>, its instances AuroraWriterG<n> and AuroraReader<i>G<n>.', minimum: 2, maximum: 999, examples: [2] }),
              restoreToTime: str({
                description: 'Point in time the data is restored to, RFC 3339 in UTC ("Z", as CloudFormation takes it); inside the source cluster\'s restorable window.',
                pattern: RFC3339_UTC_PATTERN,
                examples: ['2026-12-01T09:30:00Z'],
              }),
              sourceClusterIdentifier: str({ description: 'DB cluster identifier of the cluster restored from (the one the previous generation created), as RDS names it.', pattern: '^[a-zA-Z][a-zA-Z0-9-]{0,62}$', examples: ['dubai-dev-auroracluster-abcdef123456'] }),
              keepSource: bool({ description: 'Keep the source cluster in the stack (the rollback path). `npm run ops -- restore-database --delete-old` sets false: the stack then deletes it after a final snapshot.', default: true }),
            },
            { description: 'One point-in-time restore of Aurora into a new cluster.', examples: [{ generation: 2, restoreToTime: '2026-12-01T09:30:00Z', sourceClusterIdentifier: 'dubai-dev-auroracluster-abcdef123456', keepSource: true }] },
          ),
          {
            description:
              'Point-in-time restores, oldest first, written by `npm run ops -- restore-database`: the last entry is the cluster the stack outputs (and so the apps) use; an earlier generation stays in the stack while the entry restored from it has keepSource. See docs/operations.md.',
            default: [],
          },
        ),
      },
      { description: 'The Aurora Serverless v2 PostgreSQL cluster.', default: {} },
    ),
    openWebUI: obj(
      {
        image: image('ghcr.io/open-webui/open-webui', '0.11.0@sha256:72c0ba641ba75e7aa52655cb242570906ececd09b1140fb736483038a22b3228', 'Open WebUI'),
        replicas: int({ description: 'Open WebUI pods. More than one needs redis.enabled, storage s3 and vectorDb pgvector.', minimum: 1, maximum: 20, default: 1 }),
        resources: resources('Open WebUI', '250m', '1Gi', '2Gi'),
        dataVolumeSize: str({ description: 'Size of the Longhorn volume for DATA_DIR (uploads land there first).', pattern: MEMORY_PATTERN, default: '10Gi' }),
        storage: oneOf(['s3', 'local'], { description: 'Where uploaded files are kept: s3 (the attachments bucket) or local (the data volume only).', default: 's3' }),
        embeddingModel: str({
          description: 'LiteLLM model (a litellm.models name) Open WebUI uses for RAG embeddings, so no model is downloaded into the pod.',
          pattern: '^[A-Za-z0-9][A-Za-z0-9._:/-]{0,99}$',
          examples: ['text-embedding-3-small'],
        }),
        vectorDb: oneOf(['pgvector', 'chroma'], { description: 'Vector store for RAG: pgvector on Aurora, or the embedded Chroma (single replica only).', default: 'pgvector' }),
        signup: obj(
          {
            enabled: bool({ description: 'Let people create accounts themselves.', default: false }),
            defaultRole: oneOf(['pending', 'user', 'admin'], { description: 'Role of a new account until an admin changes it.', default: 'pending' }),
          },
          { description: 'Self sign-up.', default: {} },
        ),
        oidc: optional(
          obj(
            {
              providerName: str({ description: 'Name on the login button.', default: 'SSO', pattern: '^[^\\n]{1,40}$' }),
              providerUrl: str({ description: 'OpenID Connect discovery URL.', pattern: '^https://[^\\s]+/\\.well-known/openid-configuration$', examples: ['https://login.microsoftonline.com/<tenant>/v2.0/.well-known/openid-configuration'] }),
              clientId: str({ description: 'OAuth client id (not secret).', pattern: '^[^\\s]{1,200}$', examples: ['4f1c2d3e-0000-4000-8000-000000000000'] }),
              clientSecret: secretReference('Secret holding the OAuth client secret.', 'openwebui/oidc-client-secret'),
              signup: bool({ description: 'Create an account on first SSO login.', default: true }),
            },
            { description: 'Optional single sign-on with OpenID Connect.', examples: [{ providerUrl: 'https://sso.example/.well-known/openid-configuration', clientId: 'open-webui', clientSecret: 'openwebui/oidc-client-secret' }] },
          ),
        ),
        databasePool: obj(
          {
            size: int({ description: 'DATABASE_POOL_SIZE of each pod.', minimum: 1, maximum: 100, default: 10 }),
            maxOverflow: int({ description: 'DATABASE_POOL_MAX_OVERFLOW of each pod.', minimum: 0, maximum: 100, default: 10 }),
          },
          { description: 'SQLAlchemy connection pool towards Aurora.', default: {} },
        ),
      },
      { description: 'Open WebUI, the user interface.', examples: [{ embeddingModel: 'text-embedding-3-small' }] },
    ),
    litellm: obj(
      {
        image: image('ghcr.io/berriai/litellm-non_root', 'v1.85.1', 'LiteLLM (the non-root image variant)'),
        replicas: int({ description: 'LiteLLM pods (the autoscaler\'s minimum when autoscaling is set). More than one needs redis.enabled (shared rate limits).', minimum: 1, maximum: 20, default: 1 }),
        autoscaling: optional(
          obj(
            {
              maxReplicas: int({ description: 'Most LiteLLM pods the HorizontalPodAutoscaler may run (at least litellm.replicas).', minimum: 1, maximum: 50, examples: [6] }),
              targetCpuUtilization: int({ description: 'Average CPU use, in percent of the CPU request, the autoscaler keeps LiteLLM at.', minimum: 10, maximum: 100, default: 70 }),
            },
            { description: 'Optional HorizontalPodAutoscaler for LiteLLM (K3s ships metrics-server), from litellm.replicas up to maxReplicas.', examples: [{ maxReplicas: 6 }] },
          ),
        ),
        resources: resources('LiteLLM', '250m', '1Gi', '2Gi'),
        models: list(model, { description: 'Models LiteLLM serves; names must be unique.', minItems: 1, examples: [[{ name: 'gpt-4o', model: 'openai/gpt-4o', apiKeySecret: 'providers/openai' }]] }),
        requestTimeoutSeconds: int({ description: 'Upstream request timeout (litellm_settings.request_timeout).', minimum: 10, maximum: 3600, default: 600 }),
        dropParams: bool({ description: 'Drop request parameters a provider does not support instead of failing.', default: true }),
      },
      { description: 'The LiteLLM proxy in front of the LLM providers.', examples: [{ models: [{ name: 'gpt-4o', model: 'openai/gpt-4o', apiKeySecret: 'providers/openai' }] }] },
    ),
    redis: obj(
      {
        enabled: bool({ description: 'Run Valkey (Redis-compatible) for websockets and shared rate limits.', default: true }),
        image: image('ghcr.io/valkey-io/valkey', '8.1.4-alpine@sha256:e706d1213aaba6896c162bb6a3a9e1894e1a435f28f8f856d14fab2e10aa098b', 'Valkey'),
        resources: resources('Valkey', '50m', '128Mi', '256Mi'),
        exporterImage: image('docker.io/oliver006/redis_exporter', 'v1.67.0-alpine@sha256:ef9e3c9afa9072b8a4db8bc2b01471cd582a6a1db23760bc5fdb9e3c21842205', 'the redis_exporter sidecar Prometheus scrapes'),
        persistence: obj(
          {
            enabled: bool({ description: 'Keep Valkey data on a Longhorn volume; false makes it explicitly ephemeral (emptyDir).', default: false }),
            size: str({ description: 'Size of the Valkey volume when persistent.', pattern: MEMORY_PATTERN, default: '2Gi' }),
          },
          { description: 'Valkey holds only caches and pub/sub state, so ephemeral is the default.', default: {} },
        ),
      },
      { description: 'In-cluster Valkey.', default: {} },
    ),
    addons: obj(
      {
        argocd: chart('argo-cd', 'https://argoproj.github.io/argo-helm', '9.5.2', 'Argo CD 3.5'),
        externalSecrets: chart('external-secrets', 'https://charts.external-secrets.io', '2.5.0', 'External Secrets Operator'),
        longhorn: chart('longhorn', 'https://charts.longhorn.io', '1.12.0', 'Longhorn'),
        tailscaleOperator: chart('tailscale-operator', 'https://pkgs.tailscale.com/helmcharts', '1.102.2', 'the Tailscale operator'),
        certManager: chart('cert-manager', 'https://charts.jetstack.io', 'v1.19.1', 'cert-manager (used only with a public ingress)'),
        prometheus: chart('prometheus', 'https://prometheus-community.github.io/helm-charts', '29.27.0', 'Prometheus with Alertmanager, kube-state-metrics and node-exporter'),
        grafana: chart('grafana', 'https://grafana-community.github.io/helm-charts', '12.11.1', 'Grafana (dashboards)'),
        victoriaLogs: chart('victoria-logs-single', 'https://victoriametrics.github.io/helm-charts', '0.13.9', 'VictoriaLogs single-node with its Vector log collector'),
      },
      { description: 'Pinned Helm charts of the platform add-ons (Renovate moves them).', default: {} },
    ),
    monitoring: obj(
      {
        retention: str({ description: 'How long Prometheus keeps samples (its --storage.tsdb.retention.time).', pattern: '^[1-9][0-9]*(h|d|w)$', default: '7d' }),
        storageSize: str({ description: 'Size of the Prometheus volume on Longhorn; keep it above what the retention needs (about 1 GiB a week on dev).', pattern: MEMORY_PATTERN, default: '8Gi' }),
        alertmanagerStorageSize: str({ description: 'Size of the Alertmanager volume on Longhorn (silences and notification state).', pattern: MEMORY_PATTERN, default: '1Gi' }),
      },
      { description: 'The metrics store and alerting in namespace monitoring (docs/observability.md).', default: {} },
    ),
    chartImages: obj(
      {
        // Digests: where each was read is in generator/images/provenance.md; Renovate re-verifies them against the registry.
        argocd: image('quay.io/argoproj/argocd', 'v3.3.7@sha256:31f494ef5ad17b8dfd4e03fbae79c57cfadede325ed16a1794ee9ce20ca5d759', 'Argo CD (every component of the argo-cd chart)'),
        argocdRedis: image('ecr-public.aws.com/docker/library/redis', '8.2.3-alpine@sha256:08ad0b1d280850169a790dba1393ff7a90aef951fc19632cf4d3ce4f78e679ba', "Argo CD's Redis cache"),
        externalSecrets: image('ghcr.io/external-secrets/external-secrets', 'v2.5.0@sha256:45e7bee4e743331288df01efce0e35b41738cffdc89c86a235359a5153257489', 'External Secrets (controller, webhook and cert controller)'),
        tailscaleProxy: image('docker.io/tailscale/tailscale', 'v1.102.2@sha256:321ce041508c19079b57a28b6666c8d81ab0b08accc0a2585b3ab663d557ac24', 'the tailnet proxies the Tailscale operator starts'),
        prometheus: image('quay.io/prometheus/prometheus', 'v3.14.0@sha256:5ce7540c3c00ef4ab0c9d2c995c6a5b9c421f44b4a115d97a2c7af3b1c21cbb0', 'the Prometheus server (prometheus chart)'),
        prometheusConfigReloader: image('quay.io/prometheus-operator/prometheus-config-reloader', 'v0.93.1@sha256:428f088fe6fe07ab138bda92113664b04848a1dc408e4d3680a60ecdb55d1a65', "Prometheus's configuration reloader sidecar (prometheus chart)"),
        alertmanager: image('quay.io/prometheus/alertmanager', 'v0.34.0@sha256:690c7b525f4367aa91f73e2f91c632206d32e97c6384bdbf2fb7a861b420340d', 'Alertmanager (prometheus chart)'),
        kubeStateMetrics: image('registry.k8s.io/kube-state-metrics/kube-state-metrics', 'v2.20.0@sha256:42cfe3723a5f058171c627537fb57a3ea0f26e4380fa18555a95cb1a1b4cfc5b', 'kube-state-metrics (prometheus chart)'),
        nodeExporter: image('quay.io/prometheus/node-exporter', 'v1.12.1@sha256:1b4e4438faca4dd7e001dd445d161a4a2091b0fededa84093b3a8dfeae1f1be0', 'node-exporter (prometheus chart)'),
        grafana: image('docker.io/grafana/grafana', '13.2.0@sha256:3fd54ae1214669f8355f065ec9f6445d5279a3d77095ab048ca045685272429b', 'Grafana (grafana chart)'),
        victoriaLogs: image('docker.io/victoriametrics/victoria-logs', 'v1.52.0@sha256:47b820890d64c4575a2a0a46415dcd8a4fd59a0f1fcd6a377693d7aea639442e', 'VictoriaLogs (victoria-logs-single chart)'),
        // No digest found offline (DIGEST_NOT_OBTAINABLE_OFFLINE); Renovate's pinDigests adds it.
        vector: image('docker.io/timberio/vector', '0.56.0-distroless-libc', 'the Vector log collector (victoria-logs-single chart)'),
      },
      {
        description: "Images of the add-on charts pinned by digest (each overrides the chart's default image; the tag is the one the pinned chart version ships).",
        default: {},
      },
    ),
    longhorn: obj(
      {
        replicaCount: optional(
          int({
            description: 'Longhorn replicas per volume. Left out: one per schedulable node at the minimum node count, at most 3 (1 on a single node). Never more than there are schedulable nodes.',
            minimum: 1,
            maximum: 3,
            examples: [1],
          }),
        ),
        snapshots: obj(
          {
            cron: str({ description: 'When Longhorn snapshots every volume (cron, UTC).', pattern: '^\\S+( \\S+){4}$', default: '0 */6 * * *' }),
            retain: int({ description: 'Snapshots kept per volume.', minimum: 1, maximum: 100, default: 8 }),
          },
          { description: 'Recurring local snapshots of every volume.', default: {} },
        ),
        backups: obj(
          {
            cron: str({ description: 'When Longhorn backs every volume up to the backup bucket (cron, UTC).', pattern: '^\\S+( \\S+){4}$', default: '30 2 * * *' }),
            retain: int({ description: 'Backups kept per volume in the bucket.', minimum: 1, maximum: 100, default: 14 }),
          },
          { description: 'Recurring backups of every volume to s3://<buckets.longhornBackups>.', default: {} },
        ),
      },
      { description: 'Longhorn block storage.', default: {} },
    ),
    alerts: obj(
      {
        email: list(str({ description: 'E-mail address subscribed to the alert topic (confirms once by e-mail).', pattern: '^[^@\\s]+@[^@\\s]+\\.[a-z]{2,}$', examples: ['platform-oncall@dubai-hub.example'] }), {
          description: 'Who the CloudWatch alarms of the stack (Aurora at its capacity ceiling, CPU, memory and connections; node status checks) notify through the SNS topic. Empty: the alarms fire into a topic nobody reads.',
          maxItems: 20,
          default: [],
        }),
      },
      { description: 'AWS-side alerting: subscribers of the stack\'s SNS alert topic.', default: {}, examples: [{ email: ['platform-oncall@dubai-hub.example'] }] },
    ),
    access: obj(
      {
        platformAdmins: accessSubjects('Bound to cluster-admin through the Tailscale API server proxy.'),
        operators: accessSubjects('Bound to the read-only operator role (no Secret, no exec, no port-forward) through the Tailscale API server proxy.'),
      },
      { description: 'Per-person access to the Kubernetes API over the tailnet (docs/access.md). The K3s admin certificate is the break-glass path only.', default: {} },
    ),
    grafana: obj(
      {
        hostname: optional(str({ description: 'Tailnet machine name of the Grafana ingress (becomes <name>.<hostnames.tailnetDomain>). Left out: grafana-<environment name>.', pattern: DNS_LABEL_PATTERN, examples: ['grafana-dev'] })),
        storage: str({ description: 'Size of the Longhorn volume holding Grafana\'s SQLite database (users, preferences; dashboards and datasources come from the repository).', pattern: MEMORY_PATTERN, default: '1Gi' }),
      },
      { description: 'Grafana in namespace grafana: dashboards as code, reached over the tailnet only.', default: {} },
    ),
    logging: obj(
      {
        retention: str({ description: 'How long VictoriaLogs keeps logs (its -retentionPeriod: a number with h, d, w or y).', pattern: '^[0-9]+[hdwy]$', default: '7d' }),
        storage: str({ description: 'Size of the Longhorn volume VictoriaLogs stores logs on.', pattern: MEMORY_PATTERN, default: '5Gi' }),
      },
      { description: 'The log store (VictoriaLogs, namespace logging) and the node-level collector (Vector) that ships every pod\'s logs to it.', default: {} },
    ),
    backups: obj(
      {
        replication: optional(
          obj(
            {
              region: str({
                description: 'AWS region the replica buckets and their KMS key live in (a second small stack, <stack>-replica); must differ from aws.region.',
                pattern: '^[a-z]{2}(-gov)?-[a-z]+-[0-9]$',
                examples: ['eu-central-1'],
              }),
              buckets: list(oneOf([...REPLICATED_BUCKETS], { description: 'A bucket that holds backups: etcdSnapshots, longhornBackups or attachments.', examples: ['etcdSnapshots'] }), {
                description: 'The buckets copied to the replica region (every bucket that holds backups; production must list all three).',
                minItems: 1,
                uniqueItems: true,
                default: [...REPLICATED_BUCKETS],
              }),
              storageClass: oneOf(['STANDARD', 'STANDARD_IA', 'INTELLIGENT_TIERING', 'GLACIER_IR'], {
                description: 'S3 storage class of the replicas (read only for a restore, so infrequent access by default).',
                default: 'STANDARD_IA',
              }),
            },
            {
              description: 'Cross-region replication of the buckets that hold backups (S3 replication to versioned, KMS-encrypted replica buckets in another region). Required in production; left out, nothing is replicated.',
              examples: [{ region: 'eu-central-1' }],
            },
          ),
        ),
      },
      { description: 'Copies of the backups outside the environment\'s region (docs/backups-and-replication.md).', default: {} },
    ),
  },
  {
    $id: 'https://dubai-hub.example/schemas/environment.schema.json',
    title: 'DubAI AI Orchestration Hub environment',
    description: 'One environment of the hub: environments/<name>.yaml. Rendered by `npm run render` into rendered/<name>/.',
    examples: [{ name: 'dev', tier: 'development' }],
  },
);

export type EnvConfig = Static<typeof envConfigSchema>;
export type ModelConfig = EnvConfig['litellm']['models'][number];
export type ResourcesConfig = EnvConfig['openWebUI']['resources'];
export type ImageConfig = EnvConfig['openWebUI']['image'];

const ROLE_ARN_PATTERN = '^arn:aws[a-z-]*:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]{1,64}$';

/** Non-secret outputs of the AWS bootstrap, read from environments/<env>.outputs.yaml. */
export const outputsSchema = obj(
  {
    source: oneOf(['placeholder', 'bootstrap'], {
      description: 'placeholder until `npm run bootstrap` writes the real values.',
      examples: ['bootstrap'],
    }),
    stackName: str({ description: 'CloudFormation stack the values come from.', pattern: '^[A-Za-z][A-Za-z0-9-]{0,127}$', examples: ['dubai-dev'] }),
    aurora: obj(
      {
        endpoint: str({ description: 'Writer endpoint of the Aurora cluster.', pattern: HOSTNAME_PATTERN, examples: ['dubai-dev.cluster-abc.me-central-1.rds.amazonaws.com'] }),
        port: int({ description: 'PostgreSQL port.', minimum: 1, maximum: 65535, default: 5432 }),
        masterUserSecretArn: str({ description: 'ARN of the RDS-managed master user secret (holds username and password).', pattern: '^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:[A-Za-z0-9/_+=.@!-]+$', examples: ['arn:aws:secretsmanager:me-central-1:123456789012:secret:rds!cluster-abc-123456'] }),
      },
      { description: 'Aurora connection facts.', examples: [{ endpoint: 'db.example.com', masterUserSecretArn: 'arn:aws:secretsmanager:me-central-1:123456789012:secret:rds!cluster-abc' }] },
    ),
    buckets: obj(
      {
        attachments: str({ description: 'Bucket for Open WebUI attachments.', pattern: '^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$', examples: ['dubai-dev-attachments-123456789012'] }),
        longhornBackups: str({ description: 'Bucket for Longhorn backups.', pattern: '^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$', examples: ['dubai-dev-longhorn-123456789012'] }),
        etcdSnapshots: str({ description: 'Bucket for K3s etcd snapshots.', pattern: '^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$', examples: ['dubai-dev-etcd-123456789012'] }),
        kubeconfig: str({ description: 'Bucket holding the kubeconfig the node uploads.', pattern: '^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$', examples: ['dubai-dev-kubeconfig-123456789012'] }),
      },
      { description: 'S3 bucket names.', examples: [{ attachments: 'a', longhornBackups: 'b', etcdSnapshots: 'c', kubeconfig: 'd' }] },
    ),
    roles: obj(
      {
        externalSecrets: str({ description: 'IAM role External Secrets assumes with its service-account token.', pattern: ROLE_ARN_PATTERN, examples: ['arn:aws:iam::123456789012:role/dubai-dev-external-secrets'] }),
        longhorn: str({ description: 'IAM role of Longhorn (its backup folder).', pattern: ROLE_ARN_PATTERN, examples: ['arn:aws:iam::123456789012:role/dubai-dev-longhorn'] }),
        openWebUI: str({ description: 'IAM role Open WebUI assumes for its attachments folder.', pattern: ROLE_ARN_PATTERN, examples: ['arn:aws:iam::123456789012:role/dubai-dev-open-webui'] }),
        certManager: optional(str({ description: 'IAM role of cert-manager for DNS-01 (only with a public ingress in a Route 53 zone).', pattern: ROLE_ARN_PATTERN, examples: ['arn:aws:iam::123456789012:role/dubai-dev-cert-manager'] })),
      },
      { description: 'Workload-identity roles, one per component that calls AWS (docs/workload-identity.md).', examples: [{ externalSecrets: 'arn:aws:iam::123456789012:role/a', longhorn: 'arn:aws:iam::123456789012:role/b', openWebUI: 'arn:aws:iam::123456789012:role/c' }] },
    ),
  },
  {
    $id: 'https://dubai-hub.example/schemas/outputs.schema.json',
    title: 'DubAI AI Orchestration Hub bootstrap outputs',
    description: 'Non-secret outputs of the AWS bootstrap stack: environments/<name>.outputs.yaml, written by `npm run bootstrap`.',
    examples: [{ source: 'placeholder' }],
  },
);

export type BootstrapOutputs = Static<typeof outputsSchema>;
export type ChartConfig = EnvConfig['addons']['argocd'];
export type ClusterConfig = EnvConfig['cluster'];
