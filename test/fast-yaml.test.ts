import { describe, expect, it } from 'vitest';
import { loadDocuments } from '../generator/validate/fast-yaml.js';
import { parseRendered } from '../generator/validate/manifests.js';
import { kubernetesVersionOf } from '../generator/kubernetes-version.js';

describe('reading manifests the way Kubernetes does (YAML 1.1)', () => {
  it('reads unquoted yes/no/on/off as booleans and quoted ones as strings', () => {
    const [doc] = loadDocuments('a: yes\nb: Off\nc: "yes"\nd: true\ne: FALSE\nf: n\n');
    expect(doc).toEqual({ a: true, b: false, c: 'yes', d: true, e: false, f: false });
  });

  it('keeps timestamps and versions as strings, numbers as numbers', () => {
    const [doc] = loadDocuments('when: 2026-11-28T10:00:00Z\ntag: 0.11.0\nport: 8080\nnothing: ~\n');
    expect(doc).toEqual({ when: '2026-11-28T10:00:00Z', tag: '0.11.0', port: 8080, nothing: null });
  });

  it('refuses duplicate keys', () => {
    expect(() => loadDocuments('a: 1\na: 2\n')).toThrow(/duplicated mapping key/);
  });

  it('locates findings lazily, and reports invalid YAML with its line', () => {
    const kubernetes = kubernetesVersionOf('v1.36.3+k3s1');
    const files = new Map([
      ['ok/configmap_x_y.yaml', 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: y\n  namespace: x\ndata:\n  key: value\n'],
      ['bad/configmap_x_z.yaml', 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: z\n    namespace: x\n'],
    ]);
    const { docs, problems } = parseRendered({ env: 'dev', kubernetes, files });
    expect(docs).toHaveLength(1);
    expect(docs[0]!.lineOf(['data', 'key'])).toBe(7);
    expect(problems).toEqual([{ file: 'rendered/dev/bad/configmap_x_z.yaml', line: expect.any(Number), message: expect.stringMatching(/^invalid YAML: /) }]);
  });
});
