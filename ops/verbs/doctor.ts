/**
 * npm run ops -- doctor --env NAME
 *
 * A read-only health report of the live environment: Argo CD Applications
 * (Synced, Healthy), ExternalSecrets (Ready), the newest Longhorn backup of
 * each volume against the backup RecurringJob's schedule, the newest etcd
 * snapshot in S3 against K3s's snapshot schedule, cert-manager Certificates
 * (Ready, expiry), node conditions (Ready, no pressure). One table; exit 0
 * when nothing is found, 4 (EXIT.findings) on any finding, 1 when the
 * cluster cannot be reached.
 */
import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { awsClients } from '../../bootstrap/lib/aws-clients.js';
import { bucketName, ETCD_SNAPSHOT_FOLDER } from '../../bootstrap/names.js';
import { NAMESPACES } from '../../generator/platform-names.js';
import { ARGOCD_NAMESPACE } from '../argocd-sync.js';
import { KUBECONFIG_OPTION, KubeError, lazyKube, RESOURCES, type KubeClient, type KubeObject } from '../kube.js';
import { describeError, EXIT } from '../plan.js';
import type { Verb, VerbContext } from '../verb.js';

export interface Check {
  area: string;
  object: string;
  ok: boolean;
  detail: string;
}

/** K3s's etcd snapshot schedule (bootstrap/node/user-data.sh: etcd-snapshot-schedule-cron "0 *\/6 * * *"). */
export const ETCD_SNAPSHOT_INTERVAL_HOURS = 6;
/** How long after a scheduled run its result may still be missing (the run itself, clock skew). */
export const GRACE_HOURS = 1;
/** Certificates closer than this to expiry are findings (cert-manager renews at two thirds of the lifetime). */
export const CERTIFICATE_WARN_DAYS = 14;

const HOUR = 3_600_000;

/** The longest gap between runs of a five-field cron, for the shapes Longhorn and K3s schedules use; undefined when it cannot tell. */
export function cronIntervalHours(cron: string): number | undefined {
  const fields = cron.trim().split(/\s+/);
  if (fields.length !== 5) return undefined;
  const [minute, hour, dayOfMonth, month, dayOfWeek] = fields as [string, string, string, string, string];
  if (month !== '*' || dayOfMonth !== '*' || !/^\d+$/.test(minute)) return undefined;
  const dailyish = dayOfWeek === '*' ? 24 : /^\d+$/.test(dayOfWeek) ? 24 * 7 : undefined;
  if (dailyish === undefined) return undefined;
  if (/^\d+$/.test(hour)) return dailyish;
  const step = /^\*\/(\d+)$/.exec(hour);
  if (step && dayOfWeek === '*') return Number(step[1]);
  if (hour === '*' && dayOfWeek === '*') return 1;
  return undefined;
}

function condition(object: KubeObject, type: string): { status?: string; reason?: string; message?: string } | undefined {
  return ((object.status?.conditions ?? []) as { type: string; status?: string; reason?: string; message?: string }[]).find((entry) => entry.type === type);
}

const key = (object: KubeObject) => (object.metadata.namespace ? `${object.metadata.namespace}/${object.metadata.name}` : object.metadata.name);
const age = (from: number, now: number) => `${(Math.max(0, now - from) / HOUR).toFixed(1)} h`;

/** A listing of a custom resource whose CRD may not be installed: undefined on 404. */
async function listIfInstalled(kube: KubeClient, resource: (typeof RESOURCES)[keyof typeof RESOURCES]): Promise<KubeObject[] | undefined> {
  try {
    return await kube.list(resource);
  } catch (error) {
    if (error instanceof KubeError && error.status === 404) return undefined;
    throw error;
  }
}

export async function clusterChecks(kube: KubeClient, now: number): Promise<Check[]> {
  const checks: Check[] = [];
  for (const app of await kube.list(RESOURCES.application, ARGOCD_NAMESPACE)) {
    const sync = app.status?.sync?.status ?? 'Unknown';
    const health = app.status?.health?.status ?? 'Unknown';
    const message = app.status?.health?.message ?? app.status?.conditions?.[0]?.message;
    checks.push({ area: 'Application', object: key(app), ok: sync === 'Synced' && health === 'Healthy', detail: `${sync}/${health}${message && health !== 'Healthy' ? `: ${message}` : ''}` });
  }
  for (const secret of await kube.list(RESOURCES.externalSecret)) {
    const ready = condition(secret, 'Ready');
    checks.push({ area: 'ExternalSecret', object: key(secret), ok: ready?.status === 'True', detail: ready ? `Ready=${ready.status}${ready.status !== 'True' ? `: ${ready.reason ?? ''} ${ready.message ?? ''}`.trimEnd() : ''}` : 'no Ready condition (never synced)' });
  }
  const jobs = (await listIfInstalled(kube, RESOURCES.longhornRecurringJob)) ?? [];
  const backupJob = jobs.find((job) => job.spec?.task === 'backup');
  const volumes = await listIfInstalled(kube, RESOURCES.longhornBackupVolume);
  if (volumes !== undefined) {
    const interval = backupJob ? cronIntervalHours(String(backupJob.spec.cron)) : undefined;
    if (!backupJob) checks.push({ area: 'Longhorn backup', object: NAMESPACES.longhorn, ok: false, detail: 'no RecurringJob with task backup: nothing is backed up on a schedule' });
    else if (interval === undefined) checks.push({ area: 'Longhorn backup', object: key(backupJob), ok: false, detail: `cannot tell the interval of cron "${backupJob.spec.cron}"` });
    for (const volume of volumes.filter((entry) => entry.metadata.namespace === NAMESPACES.longhorn)) {
      const last = Date.parse(volume.status?.lastBackupAt ?? '');
      const limit = interval === undefined ? undefined : (interval + GRACE_HOURS) * HOUR;
      const ok = Number.isFinite(last) && limit !== undefined && now - last <= limit;
      checks.push({ area: 'Longhorn backup', object: volume.spec?.volumeName ?? key(volume), ok, detail: Number.isFinite(last) ? `last ${volume.status?.lastBackupName ?? '?'} ${age(last, now)} ago${interval !== undefined ? ` (schedule every ${interval} h)` : ''}` : 'no backup yet' });
    }
  }
  const certificates = await listIfInstalled(kube, RESOURCES.certificate);
  if (certificates === undefined) checks.push({ area: 'Certificate', object: '-', ok: true, detail: 'cert-manager.io/v1 Certificates not installed: none to check' });
  for (const certificate of certificates ?? []) {
    const ready = condition(certificate, 'Ready');
    const notAfter = Date.parse(certificate.status?.notAfter ?? '');
    const days = Number.isFinite(notAfter) ? (notAfter - now) / (24 * HOUR) : undefined;
    checks.push({ area: 'Certificate', object: key(certificate), ok: ready?.status === 'True' && days !== undefined && days >= CERTIFICATE_WARN_DAYS, detail: `Ready=${ready?.status ?? 'unknown'}${days !== undefined ? `, expires in ${days.toFixed(0)} days` : ', no expiry yet'}` });
  }
  for (const node of await kube.list(RESOURCES.node)) {
    const conditions = (node.status?.conditions ?? []) as { type: string; status: string; message?: string }[];
    const bad = conditions.filter((entry) => (entry.type === 'Ready' ? entry.status !== 'True' : /Pressure$|Unavailable$/.test(entry.type) && entry.status !== 'False'));
    const hasReady = conditions.some((entry) => entry.type === 'Ready');
    checks.push({ area: 'Node', object: key(node), ok: hasReady && bad.length === 0, detail: !hasReady ? 'no Ready condition (kubelet never reported)' : bad.length ? bad.map((entry) => `${entry.type}=${entry.status}`).join(', ') : 'Ready, no pressure' });
  }
  return checks;
}

/** The newest object under the etcd snapshot folder of the environment's bucket. */
export async function etcdSnapshotCheck(s3: S3Client, bucket: string, now: number): Promise<Check> {
  let newest: { key: string; at: number } | undefined;
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: `${ETCD_SNAPSHOT_FOLDER}/`, ContinuationToken: token }));
    for (const object of page.Contents ?? []) {
      const at = object.LastModified?.getTime() ?? 0;
      if (object.Key && (!newest || at > newest.at)) newest = { key: object.Key, at };
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  const object = `s3://${bucket}/${ETCD_SNAPSHOT_FOLDER}/`;
  if (!newest) return { area: 'etcd snapshot', object, ok: false, detail: 'no snapshot in the bucket' };
  return { area: 'etcd snapshot', object, ok: now - newest.at <= (ETCD_SNAPSHOT_INTERVAL_HOURS + GRACE_HOURS) * HOUR, detail: `newest ${newest.key.slice(ETCD_SNAPSHOT_FOLDER.length + 1)} ${age(newest.at, now)} ago (schedule every ${ETCD_SNAPSHOT_INTERVAL_HOURS} h)` };
}

export function formatTable(checks: Check[]): string[] {
  const rows = checks.map((check) => [check.ok ? 'ok' : 'FINDING', check.area, check.object, check.detail]);
  const widths = [0, 1, 2].map((column) => Math.max(...[['', 'area', 'object'][column]!.length, ...rows.map((row) => row[column]!.length)]));
  const line = (row: string[]) => row.map((cell, column) => (column < 3 ? cell.padEnd(widths[column]!) : cell)).join('  ').trimEnd();
  return [line(['', 'area', 'object', 'detail']), ...rows.map(line)];
}

export interface DoctorDeps {
  kube: () => KubeClient;
  s3: () => S3Client;
  now?: () => number;
}

export async function runDoctor(context: VerbContext, deps: DoctorDeps): Promise<number> {
  const { reporter } = context.run;
  const now = (deps.now ?? Date.now)();
  reporter.info(`doctor: ${context.config.name} (read-only)`);
  let checks: Check[];
  try {
    checks = await clusterChecks(deps.kube(), now);
  } catch (error) {
    reporter.warn(`cannot read the cluster: ${describeError(error)}`);
    return EXIT.failed;
  }
  try {
    checks.push(await etcdSnapshotCheck(deps.s3(), bucketName(context.config, 'etcdSnapshots'), now));
  } catch (error) {
    checks.push({ area: 'etcd snapshot', object: bucketName(context.config, 'etcdSnapshots'), ok: false, detail: `cannot list: ${describeError(error)}` });
  }
  for (const line of formatTable(checks)) reporter.info(line);
  const findings = checks.filter((check) => !check.ok).length;
  reporter.info(findings ? `doctor: ${findings} finding(s) of ${checks.length} checks` : `doctor: all ${checks.length} checks ok`);
  return findings ? EXIT.findings : EXIT.ok;
}

export const doctor: Verb = {
  name: 'doctor',
  summary: 'read-only health report (Applications, ExternalSecrets, backups, etcd snapshots, certificates, nodes); exit 4 on findings',
  usage: '[--kubeconfig FILE]',
  options: { ...KUBECONFIG_OPTION },
  run(context) {
    let s3: S3Client | undefined;
    return runDoctor(context, {
      kube: lazyKube(context.values, context.config.name),
      s3: () => (s3 ??= awsClients({ region: context.config.aws.region, ...(process.env.AWS_ENDPOINT_URL ? { endpoint: process.env.AWS_ENDPOINT_URL } : {}) }).s3),
    });
  },
};
