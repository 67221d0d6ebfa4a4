/**
 * Both schema gates (kubeconform, the real pinned binary; ajv in process)
 * check custom resources against the CRDs of their own environment, as
 * rendered from the pinned charts: on temporary copies of the repository, a
 * fixture each gate rejects names the file and the field; editing one
 * environment's CRD changes the verdict in that environment only; a custom
 * resource whose CRD is not rendered is an error; the CRD layout kubeconform
 * reads; and with the public ingress on, the ClusterIssuer is checked against
 * the hydrated cert-manager chart CRD.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { Hydrator } from '../generator/charts/hydrate.js';
import { kubernetesVersionOf } from '../generator/kubernetes-version.js';
import { renderHydrated } from '../generator/render-environment.js';
import { crdSchemasOf } from '../generator/validate/crd-schemas.js';
import type { Finding } from '../generator/validate/findings.js';
import { ensureKubeconform } from '../generator/validate/kubeconform.js';
import { ensureKubeconformSchemas, TOOLS_DIR } from '../generator/validate/kubeconform-schemas.js';
import { parseRendered, readRenderedInputs } from '../generator/validate/manifests.js';
import { runValidation } from '../generator/validate/run-validation.js';
import { schemaFindingsOf, SchemaValidator } from '../generator/validate/schema-validator.js';
import { corrupt, repositoryCopies } from './helpers/validation.js';
import { copyOf, environment, ROOT } from './support/environments.js';

const EXTERNAL_SECRET = 'rendered/dev/redis/externalsecret_redis_redis-auth.yaml';
const EXTERNAL_SECRET_CRD = 'rendered/dev/external-secrets/customresourcedefinition_externalsecrets.external-secrets.io.yaml';
const RECURRING_JOB = 'rendered/dev/longhorn-backups/recurringjob_longhorn-system_backup.yaml';
const RECURRING_JOB_CRD = 'rendered/dev/longhorn/customresourcedefinition_recurringjobs.longhorn.io.yaml';
const GATES = ['kubeconform', 'schema'] as const;

const newCopy = repositoryCopies();
let binary: string;

beforeAll(() => {
  binary = ensureKubeconform();
}, 240_000);

function validate(root: string, envs: string[]) {
  return runValidation({ root, envs, gates: GATES, kubeconform: binary });
}

/** What each gate reported, as `file · field · message`. */
function byGate(findings: Finding[]): Record<(typeof GATES)[number], string[]> {
  const of = (gate: string) => findings.filter((finding) => finding.gate === gate).map((finding) => `${finding.file} · ${finding.path} · ${finding.message}`);
  return { kubeconform: of('kubeconform'), schema: of('schema') };
}

describe('both schema gates on custom resources', () => {
  it('reject an unknown field in an ExternalSecret spec and a wrong RecurringJob task, naming the file and the field', async () => {
    const root = newCopy();
    corrupt(root, EXTERNAL_SECRET, '  refreshInterval: 1h\n', '  refreshInterval: 1h\n  refreshIntervall: 2h\n');
    corrupt(root, RECURRING_JOB, '  task: backup\n', '  task: defragment\n');
    const report = await validate(root, ['dev']);
    expect(report.ok).toBe(false);
    const found = byGate(report.findings);
    for (const gate of GATES) {
      expect(found[gate], gate).toContainEqual(expect.stringMatching(new RegExp(`^${EXTERNAL_SECRET} · spec\\.refreshIntervall · `)));
      expect(found[gate], gate).toContainEqual(expect.stringMatching(new RegExp(`^${RECURRING_JOB} · spec\\.task · .*(snapshot|enum)`)));
      expect(found[gate], gate).toHaveLength(2);
    }
    const line = report.findings.find((finding) => finding.gate === 'schema' && finding.path === 'spec.refreshIntervall')!.line;
    expect(readFileSync(join(root, EXTERNAL_SECRET), 'utf8').split('\n')[line! - 1]).toContain('refreshIntervall');
  }, 240_000);

  it('read the CRD the environment renders: editing dev\'s ExternalSecret CRD changes the verdict in dev, and only there', async () => {
    const root = newCopy();
    // The committed ExternalSecrets all set spec.refreshInterval; a CRD without it must reject them, in both gates.
    corrupt(root, EXTERNAL_SECRET_CRD, /^ {16}refreshInterval:\n {18}default: 1h0m0s\n(?: {18}.*\n| {20}.*\n)+?(?= {16}\S)/m, '');
    const report = await validate(root, ['dev', 'staging']);
    const found = byGate(report.findings);
    for (const gate of GATES) {
      expect(found[gate], gate).toContainEqual(expect.stringMatching(new RegExp(`^${EXTERNAL_SECRET} · spec\\.refreshInterval · `)));
      expect(found[gate].every((line) => line.startsWith('rendered/dev/')), gate).toBe(true);
      expect(found[gate].length, gate).toBe(report.findings.filter((finding) => finding.gate === 'schema').length);
    }
  }, 240_000);

  it('report a custom resource whose CRD the environment does not render, naming the kind and the add-on', async () => {
    const root = newCopy();
    rmSync(join(root, RECURRING_JOB_CRD));
    const report = await validate(root, ['dev']);
    const found = byGate(report.findings);
    expect(found.schema).toContainEqual(expect.stringMatching(/^rendered\/dev\/longhorn-backups\/recurringjob_longhorn-system_backup\.yaml · apiVersion · no CRD rendered in rendered\/dev\/ serves RecurringJob longhorn\.io\/v1beta2: the longhorn add-on renders the longhorn\.io CRDs \(\d+ in rendered\/dev\/longhorn\/\), and none of them is for RecurringJob/));
    expect(found.kubeconform).toContainEqual(expect.stringMatching(/^rendered\/dev\/longhorn-backups\/recurringjob_longhorn-system_backup\.yaml ·  · error: could not find schema for RecurringJob/));
  }, 240_000);

  it('pass the committed tree, each environment against its own CRD layout', async () => {
    const report = await validate(ROOT, ['dev', 'staging', 'prod']);
    expect(report.findings).toEqual([]);
    expect(report.gates.map((gate) => [gate.gate, gate.count])).toEqual([
      ['kubeconform', report.resources],
      ['schema', report.resources],
    ]);
  }, 240_000);
});

describe('the kubeconform CRD layout', () => {
  it('has one file per served CRD version, is shared by environments rendering the same CRDs, and drops layouts unused for a day', () => {
    const sets = ['dev', 'staging'].map((env) => {
      const [input] = readRenderedInputs(ROOT, [env]);
      return crdSchemasOf(parseRendered(input!).docs, input!.kubernetes.schemaVersion, env);
    });
    const folderOf = (location: string) => location.slice(0, location.indexOf('{{.Group}}') - 1);
    const stale = join(TOOLS_DIR, 'schemas', 'crds', 'v1.36.0-0000000000000000');
    mkdirSync(stale, { recursive: true });
    writeFileSync(join(stale, 'COMPLETE'), '');
    const dayAndMore = new Date(Date.now() - 25 * 60 * 60 * 1000);
    utimesSync(join(stale, 'COMPLETE'), dayAndMore, dayAndMore);
    // Force a write, so the clean-up runs: a layout folder of a set that has never been written.
    const fresh = { ...sets[0]!, hash: `t${process.pid}`.padEnd(16, '0') };
    const written = folderOf(ensureKubeconformSchemas(fresh).locations[1]!);
    try {
      expect(existsSync(stale)).toBe(false);
      const [dev, staging] = sets.map((set) => folderOf(ensureKubeconformSchemas(set).locations[1]!));
      expect(staging).toBe(dev);
      const complete = readFileSync(join(dev!, 'COMPLETE'), 'utf8').trim().split('\n');
      expect(complete).toHaveLength(sets[0]!.byGvk.size);
      for (const crd of sets[0]!.byGvk.values()) {
        expect(JSON.parse(readFileSync(join(dev!, crd.group, `${crd.kind.toLowerCase()}_${crd.version}.json`), 'utf8'))).toEqual(crd.schema());
      }
    } finally {
      rmSync(written, { recursive: true, force: true });
    }
  });
});

describe('with the public ingress on (charts hydrated with the pinned helm)', () => {
  it('checks the ClusterIssuer against the CRD of the hydrated cert-manager chart, and rejects one it does not describe', async () => {
    const dev = copyOf(environment('dev'));
    dev.config.publicIngress = { enabled: true, host: 'chat.dubai-hub.example', acmeEmail: 'platform@dubai-hub.example', route53HostedZoneId: 'Z0123456789ABCDEFGHIJ' };
    dev.config.git.credentialsSecret = 'git/repository-credentials';
    const rendered = await renderHydrated(dev, new Hydrator({ root: ROOT }));
    const kubernetes = kubernetesVersionOf(dev.config.k3s.version);
    const { docs, problems } = parseRendered({ env: 'dev', kubernetes, files: rendered.files });
    const crds = crdSchemasOf(docs, kubernetes.schemaVersion, 'dev');
    expect(SchemaValidator.for(kubernetes).lookup('cert-manager.io/v1', 'ClusterIssuer', crds)).toMatchObject({
      found: true,
      id: 'rendered/dev/cert-manager/customresourcedefinition_clusterissuers.cert-manager.io.yaml',
    });
    expect(schemaFindingsOf(docs, problems, kubernetes)).toEqual([]);

    const issuer = docs.find((doc) => doc.object.kind === 'ClusterIssuer')!;
    const broken = docs.map((doc) => (doc === issuer ? { ...doc, object: { ...structuredClone(doc.object), spec: { ...(doc.object.spec as object), acmee: {} } } } : doc));
    expect(schemaFindingsOf(broken, [], kubernetes).map((finding) => `${finding.file} · ${finding.path}`)).toEqual([`${issuer.file} · spec.acmee`]);
  }, 240_000);
});
