/**
 * `npm run render` validates the rendered trees in memory and refuses to write
 * (exit 1, rendered/ unchanged) when a manifest is invalid. The generator is
 * made to emit one invalid manifest by wrapping renderHydrated.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { readTree } from '../generator/write-rendered.js';
import { invalidRenderMessage } from '../generator/validate/render-hook.js';
import { copyRepository } from './helpers/validation.js';
import { join } from 'node:path';

const sabotage = vi.hoisted(() => ({ on: false }));
const DEPLOYMENT = 'litellm/deployment_litellm_litellm.yaml';

vi.mock('../generator/render-environment.js', async (importOriginal) => {
  const original = await importOriginal<typeof import('../generator/render-environment.js')>();
  return {
    ...original,
    renderHydrated: async (...args: Parameters<typeof original.renderHydrated>) => {
      const rendered = await original.renderHydrated(...args);
      const content = rendered.files.get(DEPLOYMENT);
      if (sabotage.on && content) rendered.files.set(DEPLOYMENT, content.replace(/^spec:\n/m, 'spec:\n  replica: 2\n'));
      return rendered;
    },
  };
});

const { main } = await import('../generator/cli.js');

let cleanup: (() => void) | undefined;
afterEach(() => {
  sabotage.on = false;
  cleanup?.();
  cleanup = undefined;
  vi.restoreAllMocks();
});

async function runRender(args: string[]): Promise<{ code: number; stderr: string }> {
  let stderr = '';
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
    stderr += String(chunk);
    return true;
  });
  vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  const code = await main(args);
  vi.restoreAllMocks();
  return { code, stderr };
}

describe('npm run render with an invalid rendered manifest', () => {
  it('writes nothing, exits 1, and names the file and the field', async () => {
    const copy = copyRepository();
    cleanup = copy.cleanup;
    const before = readTree(join(copy.root, 'rendered'));
    sabotage.on = true;
    const { code, stderr } = await runRender(['--root', copy.root]);
    expect(code).toBe(1);
    expect(readTree(join(copy.root, 'rendered'))).toEqual(before);
    for (const env of ['dev', 'staging', 'prod']) {
      expect(stderr).toContain(`rendered/${env}/${DEPLOYMENT}`);
    }
    expect(stderr).toMatch(/Deployment litellm\/litellm · spec\.replica · unknown field "replica"/);
    expect(stderr).toContain('Nothing was written; rendered/ is unchanged.');
  });

  it('also fails --check, instead of calling invalid output up to date', async () => {
    const copy = copyRepository();
    cleanup = copy.cleanup;
    sabotage.on = true;
    expect((await runRender(['--root', copy.root, '--check'])).code).toBe(1);
  });

  it('renders as usual when every manifest is valid', async () => {
    const copy = copyRepository();
    cleanup = copy.cleanup;
    expect(await runRender(['--root', copy.root, '--check'])).toEqual({ code: 0, stderr: '' });
  });

  it('the hook reads the in-memory tree, not the disk', async () => {
    const copy = copyRepository();
    cleanup = copy.cleanup;
    const tree = readTree(join(copy.root, 'rendered', 'dev'));
    expect(invalidRenderMessage(copy.root, new Map([['dev', tree]]))).toBeUndefined();
    tree.set('redis/service_redis_redis.yaml', `${tree.get('redis/service_redis_redis.yaml')!}status: nonsense\n`);
    expect(invalidRenderMessage(copy.root, new Map([['dev', tree]]))).toMatch(/rendered\/dev\/redis\/service_redis_redis\.yaml:\d+ · Service redis\/redis · status · must be object/);
  });
});
