/**
 * kubeconform (the real pinned binary) and the in-process ajv validator read
 * the same schemas (the vendored Kubernetes ones, and the CRDs of the
 * environment); they must agree on what is invalid and where. The corpus is
 * validated as if it were part of rendered/dev, with dev's CRDs.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { fieldPath } from '../generator/validate/findings.js';
import { ensureKubeconform, runKubeconform, type KubeconformResult } from '../generator/validate/kubeconform.js';
import { crdSchemasOf } from '../generator/validate/crd-schemas.js';
import { readRenderedInputs, parseRendered } from '../generator/validate/manifests.js';
import { SchemaValidator } from '../generator/validate/schema-validator.js';
import { committedCrds, docsFrom, REPO_ROOT } from './helpers/validation.js';

const CORPUS = join(REPO_ROOT, 'test', 'fixtures', 'schema-corpus');
const corpusFiles = readdirSync(CORPUS).filter((file) => file.endsWith('.yaml')).sort();
const v136 = SchemaValidator.for({ short: '1.36', schemaVersion: 'v1.36.0' });
const devCrds = committedCrds('dev');

let binary: string;
let corpusResult: KubeconformResult;

beforeAll(async () => {
  binary = ensureKubeconform();
  corpusResult = await runKubeconform(CORPUS, [CORPUS], '1.36.0', devCrds, binary);
}, 240_000);

describe('kubeconform and ajv on a corpus of invalid manifests', () => {
  it('has a corpus covering unknown fields, missing required fields, wrong types, enums, formats, CRDs and unknown kinds', () => {
    expect(corpusFiles).toEqual(
      expect.arrayContaining(['unknown-field.yaml', 'missing-required-field.yaml', 'wrong-type.yaml', 'bad-enum.yaml', 'bad-format.yaml', 'crd-unknown-field.yaml', 'unknown-kind.yaml']),
    );
    expect(corpusResult.resources).toBe(corpusFiles.length);
  });

  it.each(corpusFiles)('%s: both reject it, at the same field paths', (file) => {
    const [doc] = docsFrom(file, readFileSync(join(CORPUS, file), 'utf8'));
    const ajvIssues = v136.validate(doc!.object, devCrds);
    const kubeconformIssues = corpusResult.issues.filter((issue) => issue.file === file);
    expect(ajvIssues.length, 'ajv accepts it').toBeGreaterThan(0);
    expect(kubeconformIssues.length, 'kubeconform accepts it').toBeGreaterThan(0);
    const lookup = v136.lookup(String(doc!.object.apiVersion), String(doc!.object.kind), devCrds);
    if (!lookup.found) {
      // No schema: kubeconform reports an error for the resource, ajv for its apiVersion/kind.
      expect(kubeconformIssues.map((issue) => issue.message).join()).toMatch(/could not find schema/);
      expect(ajvIssues[0]!.message).toMatch(/no schema for/);
      return;
    }
    const paths = (issues: { path: (string | number)[] }[]) => [...new Set(issues.map((issue) => fieldPath(issue.path)))].sort();
    expect(paths(kubeconformIssues)).toEqual(paths(ajvIssues));
  });
});

describe('kubeconform and ajv on the committed rendered/ tree', () => {
  it('both find every rendered manifest valid, and count the same resources', async () => {
    const inputs = readRenderedInputs(REPO_ROOT).map((input) => ({ input, docs: parseRendered(input).docs }));
    const docs = inputs.flatMap((entry) => entry.docs);
    const crdsOf = (entry: (typeof inputs)[number]) => crdSchemasOf(entry.docs, entry.input.kubernetes.schemaVersion, entry.input.env);
    const ajvInvalid = inputs.flatMap((entry) => entry.docs.filter((doc) => SchemaValidator.for(entry.input.kubernetes).validate(doc.object, crdsOf(entry)).length > 0));
    const results = await Promise.all(
      inputs.map((entry) => runKubeconform(REPO_ROOT, [join(REPO_ROOT, 'rendered', entry.input.env)], entry.input.kubernetes.schemaVersion.slice(1), crdsOf(entry), binary)),
    );
    expect(ajvInvalid.map((doc) => doc.file)).toEqual([]);
    expect(results.flatMap((result) => result.issues)).toEqual([]);
    expect(results.reduce((sum, result) => sum + result.resources, 0)).toBe(docs.length);
    expect(docs.length).toBeGreaterThan(100);
  }, 120_000);
});
