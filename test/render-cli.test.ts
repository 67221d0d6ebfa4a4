/**
 * The render command end to end, in temporary copies of the repository:
 * deterministic, atomic, stale files removed, --check and --env.
 */
import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { main } from '../generator/cli.js';
import { readTree, writeRendered } from '../generator/write-rendered.js';
import { copyOfRepository, REPO_ROOT, type TempRepo } from './support/temp-repo.js';

let repo: TempRepo;
let out: string;
let err: string;

async function run(...args: string[]): Promise<number> {
  out = '';
  err = '';
  const stdout = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => ((out += String(chunk)), true));
  const stderr = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => ((err += String(chunk)), true));
  try {
    return await main([...args, '--root', repo.root]);
  } finally {
    stdout.mockRestore();
    stderr.mockRestore();
  }
}

const rendered = () => readTree(join(repo.root, 'rendered'));
const edit = (path: string, from: string | RegExp, to: string) => {
  const file = join(repo.root, path);
  const before = readFileSync(file, 'utf8');
  const after = before.replace(from, to);
  expect(after, `edit of ${path} must change it`).not.toBe(before);
  writeFileSync(file, after);
};

beforeEach(() => {
  repo = copyOfRepository();
});
afterEach(() => repo.cleanup());

describe('npm run render', () => {
  it('reproduces the committed rendered/ byte for byte', async () => {
    const committed = readTree(join(REPO_ROOT, 'rendered'));
    rmSync(join(repo.root, 'rendered'), { recursive: true });
    expect(await run()).toBe(0);
    expect(rendered()).toEqual(committed);
    expect(out).toMatch(/^dev +\d+ resources in \d+ folders +\d+ ms +\d+ added {2}\(rendered from placeholder outputs until `npm run bootstrap -- --env dev` writes the real ones\)$/m);
    expect(out.trim().split('\n')).toHaveLength(3);
  });

  it('says an environment is rendered from placeholders only while its outputs are placeholders', async () => {
    expect(readFileSync(join(repo.root, 'rendered', 'dev', 'README.md'), 'utf8')).toContain('> **Placeholders.** This environment is rendered from placeholder outputs until `npm run bootstrap -- --env dev`');
    edit('environments/dev.outputs.yaml', 'source: placeholder', 'source: bootstrap');
    expect(await run()).toBe(0);
    expect(out).toMatch(/^dev +\d+ resources in \d+ folders +\d+ ms +1 changed$/m);
    expect(out).toMatch(/^staging .* unchanged {2}\(rendered from placeholder outputs/m);
    expect(readFileSync(join(repo.root, 'rendered', 'dev', 'README.md'), 'utf8')).not.toContain('placeholder');
  });

  it('is deterministic: a second render changes nothing', async () => {
    expect(await run()).toBe(0);
    const first = rendered();
    expect(await run()).toBe(0);
    expect(out).toMatch(/^prod .* unchanged {2}\(rendered from placeholder outputs until `npm run bootstrap -- --env prod` writes the real ones\)$/m);
    expect(rendered()).toEqual(first);
  });

  it('removes stale files from an environment folder', async () => {
    writeFileSync(join(repo.root, 'rendered/dev/litellm/configmap_litellm_left-over.yaml'), 'kind: ConfigMap\n');
    expect(await run()).toBe(0);
    expect(existsSync(join(repo.root, 'rendered/dev/litellm/configmap_litellm_left-over.yaml'))).toBe(false);
    expect(out).toMatch(/^dev .* 1 removed  \(rendered from placeholder outputs/m);
  });

  it('removes the folder of an environment whose config was deleted', async () => {
    rmSync(join(repo.root, 'environments/staging.yaml'));
    rmSync(join(repo.root, 'environments/staging.outputs.yaml'));
    expect(await run()).toBe(0);
    expect(existsSync(join(repo.root, 'rendered/staging'))).toBe(false);
    expect(out).toContain('staging    removed (no environments/staging.yaml)');
  });

  it('with --env renders only that environment', async () => {
    edit('environments/dev.yaml', 'replicas: 1\n  embeddingModel', 'replicas: 2\n  embeddingModel');
    edit('environments/prod.yaml', 'replicas: 3\n  embeddingModel', 'replicas: 4\n  embeddingModel');
    const prodBefore = readTree(join(repo.root, 'rendered/prod'));
    expect(await run('--env', 'dev')).toBe(0);
    expect(readTree(join(repo.root, 'rendered/prod'))).toEqual(prodBefore);
    expect(readFileSync(join(repo.root, 'rendered/dev/open-webui/deployment_open-webui_open-webui.yaml'), 'utf8')).toContain('replicas: 2');
  });

  it('a change to one environment changes only that environment’s output', async () => {
    const before = rendered();
    edit('environments/staging.yaml', 'name: gpt-4o\n', 'name: gpt-4o-staging\n');
    expect(await run()).toBe(0);
    const after = rendered();
    const changed = [...after.keys()].filter((path) => after.get(path) !== before.get(path));
    expect(changed.length).toBeGreaterThan(0);
    expect(changed.every((path) => path.startsWith('staging/')), changed.join(', ')).toBe(true);
  });

  it('refuses bad input and leaves rendered/ untouched', async () => {
    const before = rendered();
    edit('environments/prod.yaml', 'deletionProtection: true', 'deletionProtection: false');
    edit('environments/dev.yaml', 'region: me-central-1', 'region: me-central-1\n  zone: a');
    expect(await run()).toBe(1);
    expect(err).toContain('environments/prod.yaml:');
    expect(err).toContain('aurora.deletionProtection: production cannot disable Aurora deletion protection');
    expect(err).toContain('environments/dev.yaml:');
    expect(err).toContain('aws.zone: unknown field "zone"');
    expect(err).toContain('Nothing was written; rendered/ is unchanged.');
    expect(rendered()).toEqual(before);
  });

  it('names an unknown environment and the ones that exist', async () => {
    expect(await run('--env', 'qa')).toBe(2);
    expect(err).toContain('Unknown environment qa: expected one of dev, prod, staging');
  });
});

describe('npm run render -- --check', () => {
  it('passes on the committed repository', async () => {
    expect(await run('--check')).toBe(0);
    expect(out).toContain('dev        up to date');
  });

  it('fails, writes nothing and lists what is out of date', async () => {
    edit('environments/dev.yaml', 'name: gpt-4o-mini\n', 'name: gpt-4o-small\n');
    writeFileSync(join(repo.root, 'rendered/prod/redis/configmap_redis_extra.yaml'), 'kind: ConfigMap\n');
    const before = rendered();
    expect(await run('--check')).toBe(1);
    expect(out).toContain('dev        out of date: 2 changed'); // the config and the checksum that rolls the pods
    expect(out).toContain('    ~ dev/litellm/configmap_litellm_litellm-config.yaml');
    expect(out).toContain('    - prod/redis/configmap_redis_extra.yaml');
    expect(out).toContain('Run `npm run render`');
    expect(rendered()).toEqual(before);
  });

  it('fails when the editor schema file is stale', async () => {
    edit('environments/environment.schema.json', '"title"', '"titel"');
    expect(await run('--check')).toBe(1);
    expect(out).toContain('environments/environment.schema.json is out of date');
  });
});

describe('writing', () => {
  it('is atomic: a failure while staging leaves the previous tree and no staging folders', async () => {
    const dir = join(repo.root, 'rendered');
    const before = readTree(dir);
    // "a" as a file and "a/b" under it cannot both be written.
    const broken = new Map([['dev', new Map([['a', 'x'], ['a/b', 'y']])]]);
    expect(() => writeRendered(dir, broken)).toThrow();
    expect(readTree(dir)).toEqual(before);
    expect(readdirSync(dir).filter((name) => name.startsWith('.'))).toEqual([]);
  });
});
