/**
 * npm run charts:pull -- [<chart> <version>] [--repository URL] [--force]
 *
 * Vendors chart archives from their chart repositories with the pinned helm:
 * reads the repository's index.yaml, pulls the archive, refuses it unless its
 * sha256 is the digest the index publishes and its Chart.yaml names the chart
 * and version asked for, then writes charts/<name>-<version>.tgz atomically
 * and its entry in charts/charts.lock.yaml. The only command that touches the
 * network; the render reads the archives it leaves.
 *
 * Without arguments it pulls every chart pinned in environments/*.yaml that
 * the lock lacks, whose archive is missing or differs from the lock, or that
 * the lock records from another repository: what the Renovate workflow runs
 * after a chart bump, before `npm run render`. Archives no environment pins
 * any more are reported (`unused:`), never deleted.
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseCommandLine } from '../command-line.js';
import { ConfigError, formatIssue, type ConfigIssue } from '../config/errors.js';
import { listEnvironments, loadEnvironment } from '../config/load-environment.js';
import { readChartMetadata, ChartArchiveError } from './archive.js';
import { ensureHelm, HELM_VERSION, HelmError, helmEnvironment, runHelm } from './helm.js';
import { CHARTS_DIR, CHARTS_LOCK, ChartLockError, lockedChart, readChartLock, sha256Of, verifyArchive, type ChartLock, type LockedChart } from './lock.js';
import { compareVersions, writeLockEntry } from './lock-update.js';
import { indexDigest } from './repository-index.js';

const HELP = `Usage: npm run charts:pull -- [<chart> <version>] [options]

Pulls pinned Helm charts from their chart repositories into charts/ with the
pinned helm (${HELM_VERSION}), checks each archive against the sha256 digest in
the repository's index.yaml and its Chart.yaml against the chart and version
asked for, and records it in ${CHARTS_LOCK}.

Without <chart> <version>: every chart pinned in environments/*.yaml that the
lock lacks, whose archive is missing or differs from the lock, or that the lock
records from another repository. Charts no environment pins are reported as
unused, never deleted.

Options:
  --repository URL  chart repository of <chart> (default: the one the
                    environments pin it from, else the one in the lock)
  --force           pull <chart> <version> even when the lock and its archive agree
                    (replaces an archive packaged from source with the repository's)
  --root DIR        repository root (default: the checkout this script is in)
  -h, --help        show this help

Exit codes: 0 done, 1 a chart could not be pulled or was refused, 2 bad usage.
`;

const CHART_NAME = /^[a-z0-9][a-z0-9-]*$/;
const CHART_VERSION = /^v?[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$/;
/** Name of the one repository helm knows during a pull (in a throw-away repository config). */
const REPOSITORY_ALIAS = 'charts-pull';
/** Network settings helm needs on a runner behind a proxy or with its own CA bundle; helmEnvironment() keeps nothing else. */
const NETWORK_ENVIRONMENT = ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy', 'NO_PROXY', 'no_proxy', 'SSL_CERT_FILE', 'SSL_CERT_DIR'];

/** One chart version to vendor, and who pins it. */
export interface ChartPin {
  chart: string;
  version: string;
  repository: string;
  /** e.g. `environments/dev.yaml: addons.argocd`; empty when asked for on the command line only. */
  pinnedBy: string[];
}

export class ChartPullError extends Error {
  constructor(readonly issues: ConfigIssue[]) {
    super(issues.map(formatIssue).join('\n'));
    this.name = 'ChartPullError';
  }
}

/** Every chart version the environments pin (defaults filled in), one per chart and version. */
export function environmentPins(root: string): ChartPin[] {
  const pins = new Map<string, ChartPin>();
  const conflicts: ConfigIssue[] = [];
  for (const env of listEnvironments(join(root, 'environments'))) {
    const { config } = loadEnvironment(root, env);
    for (const [addon, pin] of Object.entries(config.addons)) {
      const key = `${pin.chart}@${pin.version}`;
      const where = `environments/${env}.yaml: addons.${addon}`;
      const known = pins.get(key);
      if (!known) {
        pins.set(key, { chart: pin.chart, version: pin.version, repository: pin.repoURL, pinnedBy: [where] });
      } else if (known.repository !== pin.repoURL) {
        conflicts.push({
          file: `environments/${env}.yaml`,
          path: `addons.${addon}.repoURL`,
          problem: `${key} is pinned from ${pin.repoURL} here but from ${known.repository} by ${known.pinnedBy.join(', ')}`,
          expected: 'one repository per chart version (charts/ holds one archive of it)',
          fix: 'use the same repoURL for this chart in every environment',
        });
      } else {
        known.pinnedBy.push(where);
      }
    }
  }
  if (conflicts.length > 0) throw new ChartPullError(conflicts);
  return [...pins.values()].sort((a, b) => (a.chart === b.chart ? compareVersions(a.version, b.version) : a.chart < b.chart ? -1 : 1));
}

/** Why `pin` must be pulled, or undefined when the lock and the archive already have it. */
export function pullReason(root: string, lock: ChartLock, pin: ChartPin): string | undefined {
  const entry = lockedChart(lock, { chart: pin.chart, version: pin.version, repoURL: pin.repository });
  if (!entry) return `not in ${CHARTS_LOCK}`;
  if (entry.repository !== pin.repository) return `${CHARTS_LOCK} records it from ${entry.repository}`;
  const problem = verifyArchive(root, entry, lock);
  if (problem) return existsSync(join(root, CHARTS_DIR, entry.archive)) ? 'its archive differs from the lock' : 'its archive is missing';
  return undefined;
}

/** Lock entries no environment pins, and archives under charts/ that the lock does not name. */
export function unusedCharts(root: string, lock: ChartLock, pins: ChartPin[]): string[] {
  const pinned = new Set(pins.map((pin) => `${pin.chart}@${pin.version}`));
  const unused = lock.charts
    .filter((entry) => !pinned.has(`${entry.name}@${entry.version}`))
    .map((entry) => `${CHARTS_DIR}/${entry.archive} (${entry.name} ${entry.version}): no environment pins it; delete the archive and its lock entry when nothing needs it`);
  const named = new Set(lock.charts.map((entry) => entry.archive));
  const dir = join(root, CHARTS_DIR);
  const stray = existsSync(dir) ? readdirSync(dir).filter((file) => file.endsWith('.tgz') && !named.has(file)) : [];
  return [...unused, ...stray.sort().map((file) => `${CHARTS_DIR}/${file}: not in ${CHARTS_LOCK}, so the render never reads it`)];
}

function networkEnvironment(): NodeJS.ProcessEnv {
  return Object.fromEntries(NETWORK_ENVIRONMENT.filter((name) => process.env[name] !== undefined).map((name) => [name, process.env[name]]));
}

function resolveUrl(url: string, repository: string): string {
  try {
    return new URL(url, repository.endsWith('/') ? repository : `${repository}/`).href;
  } catch {
    return url;
  }
}

/**
 * Pulls one chart version and returns its new lock entry; writes the archive
 * and the lock only when every check passed.
 */
export async function pullChart(root: string, helm: string, pin: ChartPin, log: (line: string) => void): Promise<LockedChart> {
  const label = `${pin.chart} ${pin.version}`;
  const work = mkdtempSync(join(tmpdir(), 'charts-pull-'));
  try {
    // A repository config of its own: the pull sees only this repository, whatever else the isolated helm home holds.
    const env = {
      ...helmEnvironment(root),
      ...networkEnvironment(),
      HELM_REPOSITORY_CONFIG: join(work, 'repositories.yaml'),
      HELM_REPOSITORY_CACHE: join(work, 'repository'),
    };
    const indexName = `${pin.repository.replace(/\/+$/, '')}/index.yaml`;
    log(`${label}: reading ${indexName}`);
    await runHelm(helm, ['repo', 'add', REPOSITORY_ALIAS, pin.repository], { env });
    const found = indexDigest(readFileSync(join(work, 'repository', `${REPOSITORY_ALIAS}-index.yaml`), 'utf8'), indexName, pin.chart, pin.version);
    if ('problem' in found) throw new ChartPullError([found]);

    log(`${label}: pulling with helm ${HELM_VERSION}`);
    const pulledDir = join(work, 'pulled');
    mkdirSync(pulledDir);
    await runHelm(helm, ['pull', `${REPOSITORY_ALIAS}/${pin.chart}`, '--version', pin.version, '--destination', pulledDir], { env });
    const pulled = readdirSync(pulledDir).filter((file) => file.endsWith('.tgz'));
    if (pulled.length !== 1) throw new HelmError(`helm pull ${pin.chart} --version ${pin.version} left ${pulled.length} archives instead of one: ${pulled.join(', ') || '(none)'}`);
    const file = join(pulledDir, pulled[0]!);
    const source = found.url ? resolveUrl(found.url, pin.repository) : `${pin.repository} (${pulled[0]})`;

    const sha256 = sha256Of(file);
    if (sha256 !== found.digest) {
      throw new ChartPullError([
        {
          file: indexName,
          path: found.path,
          line: found.line,
          column: found.column,
          problem: `the archive helm pulled from ${source} has sha256 ${sha256}, not the digest the repository publishes (${found.digest}); nothing was written`,
          expected: 'the archive the index describes, byte for byte',
          fix: 'pull again later (a mirror or proxy may have served a stale or altered file); if it stays, report it to the repository maintainers and do not vendor the archive',
        },
      ]);
    }
    log(`${label}: sha256 ${sha256} matches ${indexName}`);

    const chart = readChartMetadata(file, source);
    const mismatch: ConfigIssue[] = [];
    if (chart.name !== pin.chart) mismatch.push({ file: source, path: 'Chart.yaml: name', problem: `is "${chart.name}", but ${pin.chart} was asked for`, expected: pin.chart, fix: 'the repository serves another chart under this name; check the chart name and repository' });
    if (chart.version !== pin.version) mismatch.push({ file: source, path: 'Chart.yaml: version', problem: `is "${chart.version}", but ${pin.version} was asked for`, expected: pin.version, fix: `the repository's index.yaml lists this archive as ${pin.chart} ${pin.version}; report it to the repository maintainers and pin a version whose archive says what it is` });
    if (!chart.appVersion) mismatch.push({ file: source, path: 'Chart.yaml: appVersion', problem: 'is missing', expected: 'the version of the application the chart installs (the lock records it)' });
    if (mismatch.length > 0) throw new ChartPullError(mismatch);

    const archive = `${pin.chart}-${pin.version}.tgz`;
    const target = join(root, CHARTS_DIR, archive);
    const staging = join(root, CHARTS_DIR, `.${archive}.${process.pid}.tmp`);
    mkdirSync(dirname(target), { recursive: true });
    copyFileSync(file, staging);
    renameSync(staging, target);
    const entry: LockedChart = { name: chart.name, version: chart.version, appVersion: chart.appVersion!, repository: pin.repository, archive, sha256 };
    writeLockEntry(root, entry);
    log(`${label}: wrote ${CHARTS_DIR}/${archive} (appVersion ${chart.appVersion}) and its entry in ${CHARTS_LOCK}`);
    return entry;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** The message of an expected failure (a refused chart, a bad lock or config, helm, a file system error); anything else is a bug and propagates. */
function problemText(error: unknown): string {
  const known = [ChartPullError, ChartLockError, ConfigError, HelmError, ChartArchiveError].some((kind) => error instanceof kind);
  if (known || (error instanceof Error && 'code' in error && 'syscall' in error)) return (error as Error).message;
  throw error;
}

export async function main(argv: string[]): Promise<number> {
  const parsed = parseCommandLine(
    argv,
    { repository: { type: 'string' }, force: { type: 'boolean', default: false }, root: { type: 'string' } },
    HELP,
    'charts:pull: ',
    { allowPositionals: true },
  );
  if ('exit' in parsed) return parsed.exit;
  const { values, positionals } = parsed;
  const usage = (problem: string) => {
    process.stderr.write(`charts:pull: ${problem}\n\n${HELP}`);
    return 2;
  };
  if (positionals.length !== 0 && positionals.length !== 2) return usage(`expected no arguments or <chart> <version>, got ${positionals.length}: ${positionals.join(' ')}`);
  const [chartName, chartVersion] = positionals;
  if (chartName !== undefined && !CHART_NAME.test(chartName)) return usage(`"${chartName}" is not a chart name (lower-case letters, digits and dashes)`);
  if (chartVersion !== undefined && !CHART_VERSION.test(chartVersion)) return usage(`"${chartVersion}" is not an exact chart version such as 1.2.3 or v1.2.3`);
  if (chartName === undefined && (values.repository !== undefined || values.force)) return usage('--repository and --force go with <chart> <version>');
  if (values.repository !== undefined && !/^https?:\/\/[^\s]+$/.test(values.repository)) return usage(`--repository ${values.repository}: expected the URL of an HTTP chart repository (the folder of its index.yaml)`);
  const root = values.root ? resolve(values.root) : resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
  const log = (line: string) => process.stdout.write(`charts:pull: ${line}\n`);

  let lock: ChartLock;
  let pins: ChartPin[] | undefined;
  try {
    lock = readChartLock(root);
  } catch (error) {
    process.stderr.write(`charts:pull: ${problemText(error)}\n`);
    return 1;
  }
  try {
    pins = environmentPins(root);
  } catch (error) {
    const text = problemText(error);
    // Pulling everything needs the pins; one named chart does not.
    if (chartName === undefined) {
      process.stderr.write(`charts:pull: the environments could not be read, so the pinned charts are unknown:\n${text}\n`);
      return 1;
    }
    log(`the environments could not be read, so unused charts are not reported:\n${text}`);
  }

  let todo: { pin: ChartPin; reason: string }[];
  if (chartName !== undefined && chartVersion !== undefined) {
    const pinned = pins?.find((pin) => pin.chart === chartName && pin.version === chartVersion);
    const sameName = (pins ?? []).filter((pin) => pin.chart === chartName).map((pin) => pin.repository);
    const locked = lock.charts.filter((entry) => entry.name === chartName).map((entry) => entry.repository);
    const candidates = [...new Set(pinned ? [pinned.repository] : sameName.length > 0 ? sameName : locked)];
    const repository = values.repository ?? (candidates.length === 1 ? candidates[0] : undefined);
    if (repository === undefined) {
      return usage(
        candidates.length === 0
          ? `no environment and no lock entry names a repository for ${chartName}; give it with --repository URL`
          : `${chartName} comes from several repositories (${candidates.join(', ')}); choose one with --repository URL`,
      );
    }
    const pin: ChartPin = { chart: chartName, version: chartVersion, repository, pinnedBy: pinned?.pinnedBy ?? [] };
    const reason = values.force ? '--force' : pullReason(root, lock, pin);
    if (reason === undefined) log(`${chartName} ${chartVersion}: up to date (${CHARTS_DIR}/${chartName}-${chartVersion}.tgz matches ${CHARTS_LOCK}); --force pulls it again`);
    todo = reason === undefined ? [] : [{ pin, reason }];
  } else {
    todo = [];
    for (const pin of pins!) {
      const reason = pullReason(root, lock, pin);
      if (reason === undefined) log(`${pin.chart} ${pin.version}: up to date`);
      else todo.push({ pin, reason });
    }
  }

  let failed = 0;
  if (todo.length > 0) {
    const helm = ensureHelm(root);
    for (const { pin, reason } of todo) {
      const before = lockedChart(lock, { chart: pin.chart, version: pin.version, repoURL: pin.repository });
      log(`${pin.chart} ${pin.version}: pulling from ${pin.repository} (${reason})`);
      try {
        const entry = await pullChart(root, helm, pin, log);
        if (before?.provenance && before.sha256 !== entry.sha256) log(`${pin.chart} ${pin.version}: replaces the archive packaged from ${before.provenance.source} at ${before.provenance.ref}`);
      } catch (error) {
        failed += 1;
        process.stderr.write(`charts:pull: ${pin.chart} ${pin.version} was not vendored:\n${problemText(error)}\n`);
      }
    }
    lock = readChartLock(root);
  }
  if (pins) for (const line of unusedCharts(root, lock, pins)) log(`unused: ${line}`);
  if (failed > 0) {
    process.stderr.write(`charts:pull: ${failed} of ${todo.length} chart${todo.length === 1 ? '' : 's'} not vendored; ${CHARTS_DIR}/ and ${CHARTS_LOCK} hold only what passed\n`);
    return 1;
  }
  log(todo.length === 0 ? 'nothing to pull' : `${todo.length} chart${todo.length === 1 ? '' : 's'} vendored; run \`npm run render\` next`);
  return 0;
}
