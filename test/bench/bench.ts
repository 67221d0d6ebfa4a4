/**
 * npm run bench — where render and validation time goes, and how it grows.
 *
 * Renders the real environments, then synthetic sets of 10, 50 and 100
 * environments made from a template, each in its own process, and prints per
 * size the time of each phase, resources per second, peak memory and the cost
 * per environment. Then compares cdk8s's own synth with the project's render,
 * and times the pull-request loop as people run it (./pr-loop.ts).
 *
 *   npm run bench                           everything below, full suite excluded
 *   npm run bench -- --loop                 only the pull-request loop
 *   npm run bench -- --scanners             only the scanner gate of npm run validate (checkov, kube-score)
 *   npm run bench -- --full-warm --full-cold  add npm test, warm and from a fresh clone (minutes)
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../support/temp-repo.js';
import { GATES } from '../../generator/validate/run-validation.js';
import { ALLOWLIST_FILE } from '../../generator/validate/scanners/allowlist.js';
import type { SizeResult } from './measure-size.js';
import { fullSuiteSteps, loopSteps, loopTable, runStep } from './pr-loop.js';
import { syntheticRepository } from './synthetic-environments.js';

const SIZES = [10, 50, 100];
const TEMPLATE = 'staging';

function measure(root: string, compareCdk8s = false): SizeResult {
  const args = ['--import', 'tsx', join(REPO_ROOT, 'test/bench/measure-size.ts'), '--root', root, ...(compareCdk8s ? ['--compare-cdk8s'] : [])];
  return JSON.parse(execFileSync(process.execPath, args, { cwd: REPO_ROOT, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 })) as SizeResult;
}

function wallClock(command: string, args: string[]): number {
  const started = performance.now();
  execFileSync(command, args, { cwd: REPO_ROOT, stdio: 'pipe' });
  return performance.now() - started;
}

const pad = (value: string | number, width: number) => String(value).padStart(width);
const ms = (value: number | undefined) => (value === undefined ? '-' : value.toFixed(0));

function row(label: string, result: SizeResult): string {
  const phaseNames = Object.keys(result.phases);
  const total = phaseNames.reduce((sum, name) => sum + result.phases[name]!, 0);
  return [
    label.padEnd(6),
    pad(result.environments, 5),
    pad(result.resources, 9),
    ...phaseNames.map((name) => pad(ms(result.phases[name]), 9)),
    pad(ms(total), 9),
    pad(((result.resources / total) * 1000).toFixed(0), 8),
    pad(result.peakRssMiB.toFixed(0), 9),
    pad((total / result.environments).toFixed(1), 8),
  ].join(' ');
}

function header(result: SizeResult): string {
  return [
    'set'.padEnd(6),
    pad('envs', 5),
    pad('resources', 9),
    ...Object.keys(result.phases).map((name) => pad(`${name} ms`, 9)),
    pad('total ms', 9),
    pad('res/s', 8),
    pad('peak MiB', 9),
    pad('ms/env', 8),
  ].join(' ');
}

const flags = new Set(process.argv.slice(2));
console.log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, load ${loadavg().map((load) => load.toFixed(2)).join(' ')}, ${new Date().toISOString()}`);
if (flags.has('--scanners')) scannerGateOnly();
else {
  if (!flags.has('--loop')) sizesAndPhases();
  pullRequestLoop();
}

/** A temp copy of what validation reads: environments/, rendered/, charts/ and the scanner allow-list. */
function realRepositoryCopy(): string {
  const copy = mkdtempSync(join(tmpdir(), 'dubai-hub-bench-real-'));
  for (const folder of ['environments', 'rendered', 'charts']) cpSync(join(REPO_ROOT, folder), join(copy, folder), { recursive: true });
  // The scanner gate reads its allow-list from the repository it validates.
  mkdirSync(join(copy, 'generator', 'validate'), { recursive: true });
  cpSync(join(REPO_ROOT, ALLOWLIST_FILE), join(copy, ALLOWLIST_FILE));
  return copy;
}

/** `npm run bench -- --scanners`: only the scanner gate over the 3 real environments (checkov and kube-score warm in the tool cache). */
function scannerGateOnly(): void {
  const copy = realRepositoryCopy();
  try {
    const wall = wallClock(process.execPath, ['generator/launch.mjs', 'validate/cli', '--gate', 'scanners', '--root', copy]);
    console.log(`  validate --gate scanners (checkov k8s + cfn, kube-score), 3 real environments, process start included: ${ms(wall)} ms`);
  } finally {
    rmSync(copy, { recursive: true, force: true });
  }
}

function sizesAndPhases(): void {
  const realCopy = realRepositoryCopy();
  const results: [string, SizeResult][] = [['real', measure(realCopy, true)]];
  const checkWallClock: [number, number][] = [];
  for (const size of SIZES) {
    const root = syntheticRepository(REPO_ROOT, TEMPLATE, size);
    process.stderr.write(`measuring ${size} environments…\n`);
    results.push([String(size), measure(root)]);
    // The command as people run it, warm (the measurement above filled the render cache): render once, then time --check.
    execFileSync(process.execPath, ['generator/launch.mjs', 'cli', '--root', root], { cwd: REPO_ROOT, stdio: 'pipe' });
    checkWallClock.push([size, wallClock(process.execPath, ['generator/launch.mjs', 'cli', '--check', '--root', root])]);
    rmSync(root, { recursive: true, force: true });
  }
  console.log('');
  console.log(header(results[0]![1]));
  for (const [label, result] of results) console.log(row(label, result));

  const real = results[0]![1];
  console.log('');
  console.log('ratios');
  console.log(`  cdk8s synth ${ms(real.cdk8sSynthMs)} ms vs project render (synth + serialise + write) ${ms(real.projectRenderWarmMs)} ms: ${(real.cdk8sSynthMs! / real.projectRenderWarmMs!).toFixed(2)}×`);
  for (const [label, result] of results) {
    console.log(
      `  ${label.padEnd(4)} kubeconform ${ms(result.kubeconformMs)} ms vs in-process schema validation ${ms(result.inProcessSchemaMs)} ms: kubeconform takes ${(result.kubeconformMs / result.inProcessSchemaMs).toFixed(2)}× as long`,
    );
    if (result.findings !== 0) throw new Error(`${label}: the gates found ${result.findings} problems in generated output`);
  }
  const largest = results[results.length - 1]![1];
  const smallest = results[1]![1];
  const perEnv = (result: SizeResult) => Object.values(result.phases).reduce((a, b) => a + b, 0) / result.environments;
  console.log(`  cost per environment at ${largest.environments} vs ${smallest.environments} environments: ${(perEnv(largest) / perEnv(smallest)).toFixed(2)}× (1.00 = linear)`);
  for (const [size, wall] of checkWallClock) console.log(`  render --check of ${pad(size, 3)} environments, warm, process start included: ${pad(ms(wall), 6)} ms (${(wall / size).toFixed(0)} ms/env)`);
  for (const [label, result] of results) {
    console.log(`  ${label.padEnd(4)} first hydration pass ${ms(result.hydrateFirstMs)} ms (helm runs for every input the per-user cache lacks), warm ${ms(result.phases['hydrate'])} ms`);
  }

  // Whole commands as people run them, process start included (cached bundles warm, as after the first run).
  const launch = (...args: string[]) => wallClock(process.execPath, ['generator/launch.mjs', ...args, '--root', realCopy]);
  launch('cli', '--check');
  launch('validate/cli', '--gate', 'schema');
  const startup = launch('cli', '--help');
  const renderCheck = launch('cli', '--check');
  const validateWithoutScanners = launch('validate/cli', ...GATES.filter((gate) => gate !== 'scanners').flatMap((gate) => ['--gate', gate]));
  const scanners = launch('validate/cli', '--gate', 'scanners');
  const validateAll = launch('validate/cli');
  console.log('');
  console.log('wall clock, process start included (3 real environments)');
  console.log(`  start-up alone (render --help)                         ${pad(ms(startup), 6)} ms`);
  console.log(`  render --check (load, synth, in-memory schema check)   ${pad(ms(renderCheck), 6)} ms`);
  console.log(`  validate (kubeconform, ajv, policy, secrets, upgrade)  ${pad(ms(validateWithoutScanners), 6)} ms`);
  console.log(`  validate --gate scanners (checkov k8s + cfn, kube-score) ${pad(ms(scanners), 6)} ms`);
  console.log(`  validate (every gate, the scanners included)           ${pad(ms(validateAll), 6)} ms`);
  console.log(`  render + validate                                      ${pad(ms(renderCheck + validateAll), 6)} ms`);
  rmSync(realCopy, { recursive: true, force: true });
}

function pullRequestLoop(): void {
  const steps = loopSteps(REPO_ROOT);
  runStep(steps[1]!); // warm the cached bundles once, as after the first run
  const results = steps.map(runStep);
  const full = fullSuiteSteps(REPO_ROOT, { warm: flags.has('--full-warm'), cold: flags.has('--full-cold') });
  try {
    results.push(...full.steps.map(runStep));
  } finally {
    full.cleanup();
  }
  console.log('');
  console.log('pull-request loop, process start included (targets: 2 idle cores, warm caches)');
  for (const line of loopTable(results)) console.log(line);
  if (results.some((result) => result.status !== 0)) process.exitCode = 1;
}
