/**
 * Synthetic environments for the benchmark: N copies of a template
 * environment with their own names, accounts, prefixes and address ranges,
 * written into a temporary repository root.
 */
import { cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDocument } from 'yaml';

export function syntheticRepository(templateRoot: string, template: string, count: number): string {
  const root = mkdtempSync(join(tmpdir(), `dubai-hub-bench-${count}-`));
  mkdirSync(join(root, 'environments'), { recursive: true });
  // Every environment hydrates the vendored charts.
  cpSync(join(templateRoot, 'charts'), join(root, 'charts'), { recursive: true });
  const config = readFileSync(join(templateRoot, 'environments', `${template}.yaml`), 'utf8');
  const outputs = readFileSync(join(templateRoot, 'environments', `${template}.outputs.yaml`), 'utf8');
  for (let index = 0; index < count; index++) {
    const name = `env${String(index).padStart(3, '0')}`;
    const account = String(100000000000 + index);
    const doc = parseDocument(config);
    doc.setIn(['name'], name);
    doc.setIn(['aws', 'accountId'], account);
    doc.setIn(['secretsManager', 'prefix'], `dubai/${name}/`);
    doc.setIn(['hostnames', 'openWebUI'], `chat-${name}`);
    doc.setIn(['hostnames', 'argocd'], `argocd-${name}`);
    doc.setIn(['hostnames', 'node'], `k3s-${name}`);
    // Vary the data so every environment renders differently.
    doc.setIn(['openWebUI', 'replicas'], 1 + (index % 3));
    doc.setIn(['litellm', 'replicas'], 1 + (index % 2));
    writeFileSync(join(root, 'environments', `${name}.yaml`), doc.toString());
    writeFileSync(
      join(root, 'environments', `${name}.outputs.yaml`),
      outputs.replaceAll(template, name).replace(/:[0-9]{12}:/, `:${account}:`).replace(/-[0-9]{12}$/gm, `-${account}`),
    );
  }
  return root;
}
