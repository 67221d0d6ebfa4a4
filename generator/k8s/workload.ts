/**
 * Typed builders for workloads. Every container the generator renders goes
 * through `container()` and every pod through `podSpec()`, so the restricted
 * security context, read-only root filesystem, resources and service-account
 * rules hold everywhere by construction.
 */
import { createHash } from 'node:crypto';
import { k8s } from 'cdk8s-plus-28';
import type { Construct } from 'constructs';
import type { ResourcesConfig } from '../config/schema.js';
import { DATA_SAFETY_ANNOTATIONS, SYNC_WAVE, syncWave } from './sync-waves.js';
import { labelValue, selectorLabels, standardLabels, type Labels } from './labels.js';
import { restrictedContainerSecurityContext, restrictedPodSecurityContext, type RunAs } from './security.js';
import { policyException } from '../policy-exceptions.js';
import { webIdentityEnv, webIdentityMount, webIdentityVolume, type WebIdentity } from './web-identity.js';

/** A directory the container may write to, backed by an emptyDir. */
/** Every PodDisruptionBudget's unhealthyPodEvictionPolicy, the generator's and (through the hydration's normalisation) the charts'. */
export const UNHEALTHY_POD_EVICTION_POLICY = 'AlwaysAllow';

export interface WritableDir {
  name: string;
  mountPath: string;
  sizeLimit: string;
  /** Backed by memory instead of the node's disk. */
  memory?: boolean;
}

/** A PersistentVolumeClaim mounted into the pod. */
export interface ClaimMount {
  name: string;
  claimName: string;
  mountPath: string;
}

/** A ConfigMap mounted read-only as files. */
export interface ConfigMount {
  name: string;
  configMap: string;
  mountPath: string;
}

/** A Secret (made by an ExternalSecret) mounted read-only as files, readable by the pod's group only. */
export interface SecretMount {
  name: string;
  secret: string;
  mountPath: string;
}

export interface ContainerProps {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  workingDir?: string;
  env?: k8s.EnvVar[];
  /** ConfigMaps and Secrets (made by ExternalSecrets) loaded whole. */
  envFrom?: { configMap?: string; secret?: string }[];
  ports?: { name: string; port: number }[];
  resources: ResourcesConfig;
  writableDirs?: WritableDir[];
  claims?: ClaimMount[];
  configFiles?: ConfigMount[];
  secretFiles?: SecretMount[];
  liveness?: k8s.Probe;
  readiness?: k8s.Probe;
  startup?: k8s.Probe;
  /** Only where the application cannot run otherwise; needs a policy exception annotation on the owner. */
  writableRootFilesystem?: boolean;
  /** AWS credentials from a projected service-account token and this role (generator/k8s/web-identity.ts). */
  webIdentity?: WebIdentity;
}

export function resourceRequirements(resources: ResourcesConfig): k8s.ResourceRequirements {
  return {
    requests: { cpu: k8s.Quantity.fromString(resources.requests.cpu), memory: k8s.Quantity.fromString(resources.requests.memory) },
    limits: {
      memory: k8s.Quantity.fromString(resources.limits.memory),
      ...(resources.limits.cpu ? { cpu: k8s.Quantity.fromString(resources.limits.cpu) } : {}),
    },
  };
}

export function httpProbe(path: string, port: string, options: Partial<k8s.Probe> = {}): k8s.Probe {
  return {
    httpGet: { path, port: k8s.IntOrString.fromString(port) },
    periodSeconds: 10,
    timeoutSeconds: 5,
    failureThreshold: 3,
    ...options,
  };
}

export function container(props: ContainerProps): k8s.Container {
  const securityContext: k8s.SecurityContext = {
    ...restrictedContainerSecurityContext(),
    ...(props.writableRootFilesystem ? { readOnlyRootFilesystem: false } : {}),
  };
  const mounts: k8s.VolumeMount[] = [
    ...(props.writableDirs ?? []).map((dir) => ({ name: dir.name, mountPath: dir.mountPath })),
    ...(props.claims ?? []).map((claim) => ({ name: claim.name, mountPath: claim.mountPath })),
    ...(props.configFiles ?? []).map((file) => ({ name: file.name, mountPath: file.mountPath, readOnly: true })),
    ...(props.webIdentity ? [webIdentityMount] : []),
    ...(props.secretFiles ?? []).map((file) => ({ name: file.name, mountPath: file.mountPath, readOnly: true })),
  ];
  const env = [...(props.env ?? []), ...(props.webIdentity ? webIdentityEnv(props.webIdentity) : [])];
  return {
    name: props.name,
    image: props.image,
    imagePullPolicy: 'IfNotPresent',
    ...(props.command ? { command: props.command } : {}),
    ...(props.args ? { args: props.args } : {}),
    ...(props.workingDir ? { workingDir: props.workingDir } : {}),
    ...(env.length > 0 ? { env } : {}),
    ...(props.envFrom && props.envFrom.length > 0
      ? {
          envFrom: props.envFrom.map((source) =>
            source.configMap ? { configMapRef: { name: source.configMap } } : { secretRef: { name: source.secret! } },
          ),
        }
      : {}),
    ...(props.ports ? { ports: props.ports.map((port) => ({ name: port.name, containerPort: port.port, protocol: 'TCP' })) } : {}),
    resources: resourceRequirements(props.resources),
    securityContext,
    ...(mounts.length > 0 ? { volumeMounts: mounts } : {}),
    ...(props.liveness ? { livenessProbe: props.liveness } : {}),
    ...(props.readiness ? { readinessProbe: props.readiness } : {}),
    ...(props.startup ? { startupProbe: props.startup } : {}),
    terminationMessagePolicy: 'FallbackToLogsOnError',
  };
}

function volumesOf(containers: ContainerProps[]): k8s.Volume[] {
  const volumes = new Map<string, k8s.Volume>();
  for (const props of containers) {
    for (const dir of props.writableDirs ?? []) {
      volumes.set(dir.name, {
        name: dir.name,
        emptyDir: { sizeLimit: k8s.Quantity.fromString(dir.sizeLimit), ...(dir.memory ? { medium: 'Memory' } : {}) },
      });
    }
    for (const claim of props.claims ?? []) {
      volumes.set(claim.name, { name: claim.name, persistentVolumeClaim: { claimName: claim.claimName } });
    }
    for (const file of props.configFiles ?? []) {
      volumes.set(file.name, { name: file.name, configMap: { name: file.configMap, defaultMode: 0o444 } });
    }
    if (props.webIdentity) volumes.set(webIdentityVolume.name, webIdentityVolume);
    for (const file of props.secretFiles ?? []) {
      // Owned by root and the pod's fsGroup: the process reads it through its group.
      volumes.set(file.name, { name: file.name, secret: { secretName: file.secret, defaultMode: 0o440 } });
    }
  }
  return [...volumes.values()].sort((a, b) => a.name.localeCompare(b.name));
}

export interface PodProps {
  serviceAccountName: string;
  runAs: RunAs;
  containers: ContainerProps[];
  initContainers?: ContainerProps[];
  restartPolicy?: 'Always' | 'OnFailure' | 'Never';
  terminationGracePeriodSeconds?: number;
  /** Spread replicas over nodes and zones (set when replicas > 1). */
  spread?: Spread;
}

export type WhenUnsatisfiable = 'ScheduleAnyway' | 'DoNotSchedule';

export interface Spread {
  labels: Labels;
  /** ScheduleAnyway prefers the spread; DoNotSchedule keeps a replica pending rather than break it. */
  whenUnsatisfiable: WhenUnsatisfiable;
}

/**
 * At most one replica more on any node (hostname) and in any zone than on
 * the emptiest. Tainted nodes (a lost node is tainted unreachable) do not
 * count as places to spread to, so a lost zone does not hold the replicas
 * that should move away from it pending.
 */
export function topologySpread(spread: Spread): k8s.TopologySpreadConstraint[] {
  return ['kubernetes.io/hostname', 'topology.kubernetes.io/zone'].map((topologyKey) => ({
    maxSkew: 1,
    topologyKey,
    whenUnsatisfiable: spread.whenUnsatisfiable,
    nodeTaintsPolicy: 'Honor',
    labelSelector: { matchLabels: spread.labels },
  }));
}

/**
 * The same spread for a chart's pods, without the label selector: the argo-cd
 * and external-secrets charts add each component's own selector to a
 * constraint that has none (`global.topologySpreadConstraints`).
 */
export function chartTopologySpread(whenUnsatisfiable: WhenUnsatisfiable): Omit<k8s.TopologySpreadConstraint, 'labelSelector'>[] {
  return topologySpread({ labels: {}, whenUnsatisfiable }).map(({ labelSelector: _selector, ...constraint }) => constraint);
}

export function podSpec(props: PodProps): k8s.PodSpec {
  const all = [...(props.initContainers ?? []), ...props.containers];
  const volumes = volumesOf(all);
  return {
    serviceAccountName: props.serviceAccountName,
    automountServiceAccountToken: false,
    enableServiceLinks: false,
    securityContext: restrictedPodSecurityContext(props.runAs),
    ...(props.initContainers ? { initContainers: props.initContainers.map(container) } : {}),
    containers: props.containers.map(container),
    ...(volumes.length > 0 ? { volumes } : {}),
    ...(props.restartPolicy ? { restartPolicy: props.restartPolicy } : {}),
    ...(props.terminationGracePeriodSeconds !== undefined ? { terminationGracePeriodSeconds: props.terminationGracePeriodSeconds } : {}),
    ...(props.spread ? { topologySpreadConstraints: topologySpread(props.spread) } : {}),
  };
}

/** SHA-256 of some content, for pod annotations that roll pods when config changes. */
export function checksum(content: string): string {
  return createHash('sha256').update(content).digest('hex');
}

export interface WorkloadProps {
  name: string;
  namespace: string;
  component: string;
  version: string;
  replicas: number;
  runAs: RunAs;
  containers: ContainerProps[];
  initContainers?: ContainerProps[];
  /** Recreate: never two versions at once (e.g. schema migrations at start-up). */
  strategy: 'Recreate' | 'RollingUpdate';
  /** Port of the Service (targets the container port of the same name). */
  service?: { port: number; targetPort: string };
  podAnnotations?: Record<string, string>;
  terminationGracePeriodSeconds?: number;
  /** How the spread of several replicas is enforced (cluster.whenUnsatisfiable); ScheduleAnyway when not given. */
  whenUnsatisfiable?: WhenUnsatisfiable;
  /** A HorizontalPodAutoscaler from `replicas` up to `maxReplicas`; the Deployment then leaves its replica count to it. */
  autoscaling?: { maxReplicas: number; targetCpuUtilization: number };
}

export interface Workload {
  labels: Labels;
  selector: Labels;
  serviceAccountName: string;
  serviceName?: string;
}

/**
 * A Deployment with its ServiceAccount (no token), Service, and, when it runs
 * more than one replica, a PodDisruptionBudget and topology spread.
 */
export function deployment(scope: Construct, props: WorkloadProps): Workload {
  const labels = standardLabels(props.name, props.component, props.version);
  const selector = selectorLabels(props.name, props.component);
  const metadata = { name: props.name, namespace: props.namespace, labels };

  // Before the Jobs of earlier waves that run under it (migrations), not with the Deployment.
  new k8s.KubeServiceAccount(scope, `${props.name}-service-account`, {
    metadata: { ...metadata, annotations: syncWave(SYNC_WAVE.secrets) },
    automountServiceAccountToken: false,
  });

  new k8s.KubeDeployment(scope, `${props.name}-deployment`, {
    metadata: { ...metadata, annotations: syncWave(SYNC_WAVE.workloads) },
    spec: {
      // With an autoscaler the count is its to set: a count here would be reset by every sync.
      ...(props.autoscaling ? {} : { replicas: props.replicas }),
      revisionHistoryLimit: 5,
      selector: { matchLabels: selector },
      strategy:
        props.strategy === 'Recreate'
          ? { type: 'Recreate' }
          : { type: 'RollingUpdate', rollingUpdate: { maxSurge: k8s.IntOrString.fromNumber(1), maxUnavailable: k8s.IntOrString.fromNumber(0) } },
      template: {
        metadata: { labels, ...(props.podAnnotations ? { annotations: props.podAnnotations } : {}) },
        spec: podSpec({
          serviceAccountName: props.name,
          runAs: props.runAs,
          containers: props.containers,
          initContainers: props.initContainers,
          terminationGracePeriodSeconds: props.terminationGracePeriodSeconds,
          spread: props.replicas > 1 ? { labels: selector, whenUnsatisfiable: props.whenUnsatisfiable ?? 'ScheduleAnyway' } : undefined,
        }),
      },
    },
  });

  if (props.service) {
    new k8s.KubeService(scope, `${props.name}-service`, {
      metadata,
      spec: {
        type: 'ClusterIP',
        selector,
        ports: [{ name: props.service.targetPort, port: props.service.port, targetPort: k8s.IntOrString.fromString(props.service.targetPort), protocol: 'TCP' }],
      },
    });
  }

  if (props.replicas > 1) {
    new k8s.KubePodDisruptionBudget(scope, `${props.name}-pdb`, {
      metadata,
      // Unready pods may always be evicted: a crash-looping replica must not block a node drain.
      spec: { maxUnavailable: k8s.IntOrString.fromNumber(1), selector: { matchLabels: selector }, unhealthyPodEvictionPolicy: UNHEALTHY_POD_EVICTION_POLICY },
    });
  }

  if (props.autoscaling) {
    new k8s.KubeHorizontalPodAutoscalerV2(scope, `${props.name}-hpa`, {
      metadata,
      spec: {
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: props.name },
        minReplicas: props.replicas,
        maxReplicas: props.autoscaling.maxReplicas,
        // K3s ships metrics-server: CPU use against the CPU request.
        metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: props.autoscaling.targetCpuUtilization } } }],
        // Scale down slowly: a LiteLLM pod holds streaming responses.
        behavior: { scaleDown: { stabilizationWindowSeconds: 300, policies: [{ type: 'Pods', value: 1, periodSeconds: 120 }] } },
      },
    });
  }

  return { labels, selector, serviceAccountName: props.name, serviceName: props.service ? props.name : undefined };
}

export interface ControllerProps {
  name: string;
  namespace: string;
  labels: Labels;
  selector: Labels;
  /** From podSpec(); placement (affinity, tolerations) may be added to it. */
  pod: k8s.PodSpec;
  /** Why the controller's pods mount their service-account token (the policy exception's reason). */
  apiAccess: string;
}

/**
 * A controller of an add-on that talks to the API server: one replica,
 * Recreate (never two at once), its service-account token mounted, and the
 * policy exception that says why.
 */
export function controllerDeployment(scope: Construct, id: string, props: ControllerProps): k8s.KubeDeployment {
  return new k8s.KubeDeployment(scope, id, {
    metadata: {
      name: props.name,
      namespace: props.namespace,
      labels: props.labels,
      annotations: { ...syncWave(SYNC_WAVE.workloads), ...policyException('service-account-token-automount', props.apiAccess) },
    },
    spec: {
      replicas: 1,
      revisionHistoryLimit: 5,
      strategy: { type: 'Recreate' },
      selector: { matchLabels: props.selector },
      template: { metadata: { labels: { ...props.labels, ...props.selector } }, spec: { ...props.pod, automountServiceAccountToken: true } },
    },
  });
}

export interface JobProps {
  name: string;
  /** Stable name for labels (the Job name itself changes per version). */
  appName: string;
  namespace: string;
  component: string;
  version: string;
  wave: number;
  runAs: RunAs;
  serviceAccountName: string;
  containers: ContainerProps[];
  annotations?: Record<string, string>;
  /** Extra pod labels, e.g. to match a NetworkPolicy. */
  podLabels?: Labels;
}

/** A Job name that changes with the version it runs, e.g. `litellm-migrate` + `v1.85.1` → `litellm-migrate-v1-85-1`. */
export function versionedJobName(prefix: string, version: string): string {
  return `${prefix}-${labelValue(version).toLowerCase().replace(/[^a-z0-9-]/g, '-')}`;
}

/**
 * A one-off Job. Its name should change with what it does (a version or a
 * checksum), so it runs once per change and Argo CD prunes the previous one.
 */
export function job(scope: Construct, props: JobProps): k8s.KubeJob {
  const labels = standardLabels(props.appName, props.component, props.version);
  return new k8s.KubeJob(scope, `${props.name}-job`, {
    metadata: { name: props.name, namespace: props.namespace, labels, annotations: { ...syncWave(props.wave), ...props.annotations } },
    spec: {
      backoffLimit: 6,
      activeDeadlineSeconds: 1800,
      template: {
        metadata: { labels: { ...labels, ...props.podLabels } },
        spec: podSpec({ serviceAccountName: props.serviceAccountName, runAs: props.runAs, containers: props.containers, restartPolicy: 'OnFailure' }),
      },
    },
  });
}

export function persistentVolumeClaim(
  scope: Construct,
  props: { name: string; namespace: string; labels: Labels; size: string; storageClass: string; accessMode: 'ReadWriteOnce' | 'ReadWriteMany' },
): k8s.KubePersistentVolumeClaim {
  return new k8s.KubePersistentVolumeClaim(scope, `${props.name}-pvc`, {
    metadata: { name: props.name, namespace: props.namespace, labels: props.labels, annotations: DATA_SAFETY_ANNOTATIONS },
    spec: {
      accessModes: [props.accessMode],
      storageClassName: props.storageClass,
      resources: { requests: { storage: k8s.Quantity.fromString(props.size) } },
    },
  });
}

/** A value that changes when any of the inputs change, short enough for a resource name. */
export function shortHash(...parts: string[]): string {
  return checksum(parts.join('\u0000')).slice(0, 8);
}
