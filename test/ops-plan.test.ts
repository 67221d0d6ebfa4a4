/**
 * The shared behaviour of every `npm run ops` verb: a dry run prints the plan
 * and changes nothing, destructive plans need confirmation, progress is
 * numbered, a failed step stops the plan but clean-up still runs, and the exit
 * codes mean one thing each.
 */
import { describe, expect, it } from 'vitest';
import { main } from '../ops/cli.js';
import { EXIT, executePlan, type Plan, type RunOptions } from '../ops/plan.js';
import type { Verb } from '../ops/verb.js';

function collect() {
  const lines: string[] = [];
  return { lines, reporter: { info: (line: string) => lines.push(line), warn: (line: string) => lines.push(`WARN ${line}`) } };
}

function planOf(done: string[], options: { failAt?: number; destructive?: boolean; failCleanup?: boolean } = {}): Plan {
  const step = (title: string, index: number, destructive = false) => ({
    title,
    destructive,
    run: async () => {
      if (options.failAt === index) throw new Error(`${title} broke`);
      done.push(title);
    },
  });
  return {
    summary: 'restore something',
    consequences: ['open-webui is down while it runs'],
    steps: [step('pause sync', 1), step('delete volume', 2, options.destructive ?? true), step('resume workload', 3)],
    finally: [
      {
        title: 're-enable sync',
        run: async () => {
          if (options.failCleanup) throw new Error('API unreachable');
          done.push('re-enable sync');
        },
      },
    ],
  };
}

const options = (overrides: Partial<RunOptions> & { answer?: boolean } = {}) => {
  const { lines, reporter } = collect();
  const asked: string[] = [];
  const run: RunOptions = {
    dryRun: false,
    assumeYes: false,
    reporter,
    confirmer: { confirm: async (question) => (asked.push(question), overrides.answer ?? true) },
    ...overrides,
  };
  return { run, lines, asked };
};

describe('a plan', () => {
  it('on --dry-run prints every step, the consequences and the clean-up, and runs nothing', async () => {
    const done: string[] = [];
    const { run, lines, asked } = options({ dryRun: true });
    expect(await executePlan(planOf(done), run)).toBe(EXIT.ok);
    expect(done).toEqual([]);
    expect(asked).toEqual([]);
    expect(lines).toEqual([
      'restore something',
      '  ! open-webui is down while it runs',
      '  1. pause sync',
      '  2. delete volume  [destructive]',
      '  3. resume workload',
      '  always: re-enable sync',
      'dry run: nothing was changed',
    ]);
  });

  it('asks before a destructive step and changes nothing when the answer is no', async () => {
    const done: string[] = [];
    const { run, asked, lines } = options({ answer: false });
    expect(await executePlan(planOf(done), run)).toBe(EXIT.declined);
    expect(asked).toHaveLength(1);
    expect(done).toEqual([]);
    expect(lines).toContain('WARN not confirmed: nothing was changed');
  });

  it('does not ask when no step is destructive, or when --yes was given', async () => {
    for (const [overrides, destructive] of [[{}, false], [{ assumeYes: true }, true]] as const) {
      const done: string[] = [];
      const { run, asked } = options(overrides);
      expect(await executePlan(planOf(done, { destructive }), run)).toBe(EXIT.ok);
      expect(asked).toEqual([]);
      expect(done).toEqual(['pause sync', 'delete volume', 'resume workload', 're-enable sync']);
    }
  });

  it('numbers its progress', async () => {
    const { run, lines } = options();
    await executePlan(planOf([]), run);
    expect(lines.filter((line) => line.startsWith('['))).toEqual(['[1/3] pause sync', '[2/3] delete volume', '[3/3] resume workload', '[always] re-enable sync']);
  });

  it('stops at a failed step, says what was done and not done, still runs the clean-up, and exits 1', async () => {
    const done: string[] = [];
    const { run, lines } = options();
    expect(await executePlan(planOf(done, { failAt: 2 }), run)).toBe(EXIT.failed);
    expect(done).toEqual(['pause sync', 're-enable sync']);
    expect(lines).toContain('WARN ✗ step 2 failed: delete volume: delete volume broke');
    expect(lines).toContain('WARN   already done: steps 1-1; not run: steps 3-3');
  });

  it('exits 1 when only the clean-up fails, and says to do it by hand', async () => {
    const { run, lines } = options();
    expect(await executePlan(planOf([], { failCleanup: true }), run)).toBe(EXIT.failed);
    expect(lines).toContain('WARN ✗ clean-up failed: re-enable sync: API unreachable — do it by hand');
  });
});

describe('npm run ops', () => {
  const seen: { env?: string; values?: Record<string, unknown>; positionals?: string[] } = {};
  const echo: Verb = {
    name: 'echo',
    summary: 'test verb',
    usage: '<thing> [--twice]',
    options: { twice: { type: 'boolean', default: false } },
    async run(context) {
      seen.env = context.config.name;
      seen.values = context.values;
      seen.positionals = context.positionals;
      return executePlan({ summary: 'echo', steps: [{ title: 'say it', destructive: true, run: async () => undefined }] }, context.run);
    },
  };
  const cli = (argv: string[]) => {
    let out = '';
    let err = '';
    const { lines, reporter } = collect();
    return main(argv, { verbs: [echo], reporter, confirmer: () => ({ confirm: async () => false }), stdout: (text) => (out += text), stderr: (text) => (err += text) }).then((code) => ({ code, out, err, lines }));
  };

  it('lists its verbs with --help and exits 0; with no verb it exits 2', async () => {
    expect(await cli(['--help'])).toMatchObject({ code: 0, out: expect.stringMatching(/Verbs:\n {2}echo {2}test verb/) });
    expect((await cli([])).code).toBe(EXIT.usage);
  });

  it('refuses an unknown verb, an unknown option and a missing --env with exit code 2', async () => {
    expect(await cli(['restore-everything'])).toMatchObject({ code: 2, err: expect.stringMatching(/unknown verb "restore-everything"\n {2}fix: use one of: echo/) });
    expect(await cli(['echo', '--env', 'dev', '--force'])).toMatchObject({ code: 2, err: expect.stringMatching(/Unknown option '--force'[\s\S]*Usage: npm run ops -- echo --env NAME <thing> \[--twice\]/) });
    expect(await cli(['echo', 'x'])).toMatchObject({ code: 2, err: expect.stringMatching(/--env is required/) });
  });

  it('names the environments it knows for an unknown one, exit 1', async () => {
    expect(await cli(['echo', '--env', 'qa'])).toMatchObject({ code: 1, err: expect.stringMatching(/unknown environment "qa"\n {2}fix: pass one of dev, prod, staging/) });
  });

  it('hands the verb the loaded config, its options and positionals, and maps a declined confirmation to exit 3', async () => {
    const result = await cli(['echo', '--env', 'dev', 'thing', '--twice']);
    expect(result.code).toBe(EXIT.declined);
    expect(seen).toMatchObject({ env: 'dev', values: { twice: true, 'dry-run': false, yes: false }, positionals: ['thing'] });
  });
});
