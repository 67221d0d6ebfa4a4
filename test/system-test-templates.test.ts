/**
 * The system test's evaluation of ExternalSecret templates (test/system/go-template.ts),
 * which stands in for ESO's Go text/template: Go's url.QueryEscape byte for byte,
 * and a refusal, by name, of anything it does not evaluate.
 */
import { describe, expect, it } from 'vitest';
import { evaluateTemplate, goQueryEscape, TemplateError } from './system/go-template.js';
import { evaluateExternalSecret, RenderedTree } from './system/rendered.js';
import { REPO_ROOT } from './support/temp-repo.js';

describe('ESO template evaluation for the system test', () => {
  it("escapes as Go's url.QueryEscape does", () => {
    // Go: url.QueryEscape("a b+c/d?e=f&g#h%i:j!k'l(m)n*o~p") == "a+b%2Bc%2Fd%3Fe%3Df%26g%23h%25i%3Aj%21k%27l%28m%29n%2Ao~p"
    expect(goQueryEscape("a b+c/d?e=f&g#h%i:j!k'l(m)n*o~p")).toBe('a+b%2Bc%2Fd%3Fe%3Df%26g%23h%25i%3Aj%21k%27l%28m%29n%2Ao~p');
    expect(goQueryEscape('é')).toBe('%C3%A9');
  });

  it('evaluates .key and .key | urlquery', () => {
    expect(evaluateTemplate('postgresql://{{ .u | urlquery }}:{{ .p | urlquery }}@h/db', { u: 'hub admin', p: 'a:b@c' }, 'here')).toBe('postgresql://hub+admin:a%3Ab%40c@h/db');
    expect(evaluateTemplate('sk-{{ .k }}', { k: 'x' }, 'here')).toBe('sk-x');
  });

  it('evaluates string literals, the way a template writes braces for the Secret\'s consumer (Alertmanager\'s own templates)', () => {
    expect(evaluateTemplate('api_url: {{ .u }}\ntitle: {{ "{{" }} .CommonLabels.alertname {{ "}}" }}', { u: 'https://hooks.example/x' }, 'here')).toBe('api_url: https://hooks.example/x\ntitle: {{ .CommonLabels.alertname }}');
    expect(() => evaluateTemplate('{{ "unterminated }}', {}, 'ES')).toThrow(/is not `.key`/);
  });

  it('refuses functions and actions it does not implement, and keys the data lacks, naming them', () => {
    expect(() => evaluateTemplate('{{ .k | b64enc }}', { k: 'x' }, 'ES a/b key K')).toThrow(new TemplateError('ES a/b key K: template function b64enc is not implemented here (known: urlquery)'));
    expect(() => evaluateTemplate('{{ if .k }}x{{ end }}', { k: 'x' }, 'ES')).toThrow(/is not `.key` or `.key \| function`/);
    expect(() => evaluateTemplate('{{ .missing }}', { k: 'x' }, 'ES')).toThrow(/has no secretKey missing \(has: k\)/);
  });

  it("evaluates every rendered ExternalSecret of every environment (reading property values where the ref has one)", async () => {
    for (const env of ['dev', 'staging', 'prod']) {
      const tree = new RenderedTree(REPO_ROOT, env);
      const externalSecrets = tree.manifests.filter((m) => m.kind === 'ExternalSecret');
      expect(externalSecrets.length).toBeGreaterThan(0);
      for (const es of externalSecrets) {
        const secret = await evaluateExternalSecret(es, async (key, property) => `${property ?? 'value'}:/@`, (kind, namespace, name) => tree.find(kind, namespace, name).spec.data);
        if (es.metadata.name === 'alertmanager-config') {
          // Alertmanager's own templates stay, written as ESO literals; the webhook URL is filled in.
          expect(secret['alertmanager.yml']).toContain('api_url: "value:/@"');
          expect(secret['alertmanager.yml']).toContain('{{ .CommonLabels.alertname }}');
          expect(secret['alertmanager.yml']).not.toContain('{{ "');
          continue;
        }
        for (const value of Object.values(secret)) expect(value).not.toContain('{{');
      }
      const owui = await evaluateExternalSecret(tree.find('ExternalSecret', 'open-webui', 'open-webui-env'), async (_key, property) => (property === 'password' ? 'p@ss:word' : 'v'));
      expect(owui.DATABASE_URL).toContain(':p%40ss%3Aword@');
    }
  });
});
