/**
 * kubectl against the test control plane: every call has a time-out, and the
 * API server's admission warnings (kubectl prints them as `Warning: ...` on
 * standard error) are returned apart from the rest of the output.
 */
import { spawn } from 'node:child_process';

export interface KubectlResult {
  ok: boolean;
  stdout: string;
  /** Standard error without the warning lines. */
  stderr: string;
  warnings: string[];
}

export class Kubectl {
  constructor(
    private readonly binary: string,
    private readonly kubeconfig: string,
    private readonly cacheDir: string,
    private readonly timeoutMs = 120_000,
  ) {}

  /** Runs kubectl; `timeoutMs` (default: the instance's) bounds each request and, 10 s later, the process. */
  run(args: string[], input?: string, timeoutMs = this.timeoutMs): Promise<KubectlResult> {
    return new Promise((resolve) => {
      const child = spawn(this.binary, ['--kubeconfig', this.kubeconfig, '--cache-dir', this.cacheDir, `--request-timeout=${Math.round(timeoutMs / 1000)}s`, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs + 10_000);
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.stdin.on('error', () => {}); // kubectl may exit before reading its input
      child.on('error', (error) => {
        clearTimeout(timer);
        resolve({ ok: false, stdout, stderr: `kubectl could not run: ${error.message}`, warnings: [] });
      });
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        const lines = stderr.split('\n');
        const warnings = lines.filter((line) => line.startsWith('Warning: ')).map((line) => line.slice('Warning: '.length));
        const rest = lines.filter((line) => !line.startsWith('Warning: ')).join('\n').trim();
        resolve({ ok: code === 0, stdout, stderr: signal ? `${rest}\nkubectl ${args[0]} killed (${signal}) after ${timeoutMs / 1000} s`.trim() : rest, warnings });
      });
      child.stdin.end(input ?? '');
    });
  }

  async json<T>(args: string[]): Promise<T> {
    const result = await this.run([...args, '-o', 'json']);
    if (!result.ok) throw new Error(`kubectl ${args.join(' ')}: ${result.stderr}`);
    return JSON.parse(result.stdout) as T;
  }
}
