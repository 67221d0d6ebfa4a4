import { describe, expect, it } from 'vitest';
import { describeExit, runCaptured } from '../generator/run-captured.js';

describe('a tool process run by the validation and the render', () => {
  it('returns its exit code and both outputs, whatever the code', async () => {
    const run = await runCaptured('sh', ['-c', 'echo out; echo err >&2; exit 3']);
    expect(run).toMatchObject({ code: 3, signal: null, timedOut: false, stdout: 'out\n', stderr: 'err\n' });
    expect(describeExit(run)).toBe('exited 3');
  });

  it('runs in the given folder with the given environment', async () => {
    const run = await runCaptured('sh', ['-c', 'pwd; echo "$PROBE"'], { cwd: '/', env: { PATH: process.env.PATH, PROBE: 'seen' } });
    expect(run.stdout).toBe('/\nseen\n');
  });

  it('kills a process that outlives its time-out and says so', async () => {
    const run = await runCaptured('sleep', ['600'], { timeoutMs: 300 });
    expect(run.timedOut).toBe(true);
    expect(run.signal).toBe('SIGKILL');
    expect(describeExit(run)).toBe('was killed after its time-out');
  });

  it('rejects, naming the binary, when the tool cannot be started', async () => {
    await expect(runCaptured('/nonexistent/tool', [])).rejects.toThrow('could not start /nonexistent/tool');
  });
});
