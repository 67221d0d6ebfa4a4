/**
 * One throw-away Kubernetes control plane on 127.0.0.1: etcd, kube-apiserver
 * with K3s's flags and the node's admission configuration, and kube-controller-manager (so
 * Deployments, StatefulSets and Jobs create their Pods and admission judges
 * each one). No scheduler, no kubelet: Pods are created and stay Pending.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { ControlPlaneBinaries } from './binaries.js';
import { Kubectl } from './kubectl.js';
import { k3sNodeConfig, type K3sNodeConfig } from './k3s-node-config.js';
import { createPki, writeKubeconfig } from './pki.js';
import { freePort } from '../free-port.js';
import { startProcess, stopProcess, waitFor, type Started } from './processes.js';

/**
 * What K3s itself passes to the API server (its defaults, not in the node's
 * config): Node,RBAC authorisation, privileged containers allowed, anonymous
 * authentication off. The node's own flags (the PodSecurity admission
 * configuration, NodeRestriction on top of the default admission chain) come
 * from bootstrap/node/user-data.sh (./k3s-node-config.ts).
 */
export const K3S_DEFAULT_APISERVER_FLAGS = ['--authorization-mode=Node,RBAC', '--allow-privileged=true', '--anonymous-auth=false'];

/** K3s's default service range; only allocated from, never routed. */
const SERVICE_CIDR = '10.43.0.0/16';

export interface ControlPlaneOptions {
  binaries: ControlPlaneBinaries;
  /** Repository root: the node's settings are read from its bootstrap/node/user-data.sh. */
  root: string;
  /** Run folder: credentials, etcd data and the logs. */
  dir: string;
  log?: (line: string) => void;
  /** Time-out for each component to come up (busy 2-core machine: generous). */
  startTimeoutMs?: number;
}

export class ControlPlane {
  readonly processes: Started[] = [];
  kubectl!: Kubectl;
  kubeconfig!: string;
  server!: string;
  node!: K3sNodeConfig;

  constructor(private readonly options: ControlPlaneOptions) {}

  private dead(): string | undefined {
    const gone = this.processes.find((started) => started.exit);
    return gone ? `${gone.name} (PID ${gone.pid}) exited with ${gone.exit!.code ?? gone.exit!.signal}; see ${gone.log}` : undefined;
  }

  async start(): Promise<void> {
    const { binaries, dir } = this.options;
    const log = this.options.log ?? (() => {});
    const timeout = this.options.startTimeoutMs ?? 180_000;
    mkdirSync(join(dir, 'pki'), { recursive: true });
    const pki = createPki(join(dir, 'pki'));
    this.node = k3sNodeConfig(this.options.root, dir);
    const [etcdPort, peerPort, apiPort, cmPort] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
    const etcdUrl = `http://127.0.0.1:${etcdPort}`;
    const peerUrl = `http://127.0.0.1:${peerPort}`;
    this.processes.push(
      startProcess('etcd', binaries.etcd, [
        '--name=cluster-test', `--data-dir=${join(dir, 'etcd')}`,
        `--listen-client-urls=${etcdUrl}`, `--advertise-client-urls=${etcdUrl}`,
        `--listen-peer-urls=${peerUrl}`, `--initial-advertise-peer-urls=${peerUrl}`, `--initial-cluster=cluster-test=${peerUrl}`,
        '--unsafe-no-fsync', '--log-level=warn',
      ], join(dir, 'etcd.log')),
    );
    log(`  etcd on ${etcdUrl} (PID ${this.processes[0]!.pid})`);
    this.server = `https://127.0.0.1:${apiPort}`;
    this.processes.push(
      startProcess('kube-apiserver', binaries['kube-apiserver'], [
        `--etcd-servers=${etcdUrl}`, '--bind-address=127.0.0.1', '--advertise-address=127.0.0.1', `--secure-port=${apiPort}`,
        `--tls-cert-file=${pki.serverCert}`, `--tls-private-key-file=${pki.serverKey}`, `--client-ca-file=${pki.caCert}`,
        `--service-account-key-file=${pki.serviceAccountPub}`, `--service-account-signing-key-file=${pki.serviceAccountKey}`,
        '--service-account-issuer=https://kubernetes.default.svc.cluster.local', `--service-cluster-ip-range=${SERVICE_CIDR}`,
        `--cert-dir=${join(dir, 'pki')}`, '--profiling=false', '--v=1',
        ...K3S_DEFAULT_APISERVER_FLAGS, ...this.node.apiserverFlags,
      ], join(dir, 'kube-apiserver.log')),
    );
    log(`  kube-apiserver on ${this.server} (PID ${this.processes[1]!.pid})`);
    this.kubeconfig = join(dir, 'kubeconfig');
    writeKubeconfig(this.kubeconfig, pki, this.server);
    this.kubectl = new Kubectl(binaries.kubectl, this.kubeconfig, join(dir, 'kubectl-cache'));
    await waitFor('kube-apiserver /readyz', timeout, async () => ((await this.kubectl.run(['get', '--raw', '/readyz'])).stdout.trim() === 'ok' ? true : undefined), { stepMs: 1000, dead: () => this.dead() });
    this.processes.push(
      startProcess('kube-controller-manager', binaries['kube-controller-manager'], [
        `--kubeconfig=${this.kubeconfig}`, `--authentication-kubeconfig=${this.kubeconfig}`, `--authorization-kubeconfig=${this.kubeconfig}`,
        '--bind-address=127.0.0.1', `--secure-port=${cmPort}`, '--leader-elect=false',
        `--service-account-private-key-file=${pki.serviceAccountKey}`, `--root-ca-file=${pki.caCert}`, `--service-cluster-ip-range=${SERVICE_CIDR}`,
        '--controllers=*', '--profiling=false', '--v=1',
        ...this.node.controllerManagerFlags,
      ], join(dir, 'kube-controller-manager.log')),
    );
    log(`  kube-controller-manager (PID ${this.processes[2]!.pid})`);
    // The service-account controller creating `default` in kube-system shows the controllers run.
    await waitFor('kube-controller-manager (ServiceAccount default in kube-system)', timeout, async () => ((await this.kubectl.run(['-n', 'kube-system', 'get', 'serviceaccount', 'default'])).ok ? true : undefined), { stepMs: 1000, dead: () => this.dead() });
  }

  /** Fails when a component has died since start. */
  assertAlive(): void {
    const dead = this.dead();
    if (dead) throw new Error(dead);
  }

  /** Stops what was started, newest first, each by its PID. */
  async stop(): Promise<void> {
    for (const started of [...this.processes].reverse()) await stopProcess(started);
  }
}
