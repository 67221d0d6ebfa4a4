/**
 * The Kubernetes-side verbs without a cluster: what rotate refuses and why,
 * the order of its plan (Valkey's clients before Valkey), what it derives
 * from rendered/dev/, the schedules doctor compares ages against, its table,
 * and the generated values. The live behaviour is in
 * test/ops-k8s-control-plane.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../bootstrap/lib/environment.js';
import { main } from '../ops/cli.js';
import { EXIT } from '../ops/plan.js';
import type { VerbContext } from '../ops/verb.js';
import { cronIntervalHours, formatTable } from '../ops/verbs/doctor.js';
import { newSecretValue, rotatePlan, type RotateDeps } from '../ops/verbs/rotate.js';
import { REPO_ROOT } from './support/temp-repo.js';

const unused = () => {
  throw new Error('a dry run must not reach the cluster or AWS');
};
const deps: RotateDeps = { kube: unused, secrets: unused, addValkeyPassword: async () => unused(), timeoutMs: 1000 };

function context(positionals: string[]): VerbContext & { lines: string[] } {
  const lines: string[] = [];
  return {
    root: REPO_ROOT,
    config: loadConfig(REPO_ROOT, 'dev'),
    values: {},
    positionals,
    run: { dryRun: true, assumeYes: false, reporter: { info: (line) => lines.push(line), warn: (line) => lines.push(`WARN ${line}`) }, confirmer: { confirm: async () => false } },
    lines,
  };
}

const titles = (positionals: string[]) => rotatePlan(context(positionals), deps).steps.map((step) => step.title);

describe('rotate', () => {
  it('refuses the LiteLLM salt key with the reason, through the command line with exit 1', async () => {
    let err = '';
    const code = await main(['rotate', 'litellm-salt-key', '--env', 'dev'], { stderr: (text) => (err += text), stdout: () => {}, reporter: { info: () => {}, warn: () => {} } });
    expect(code).toBe(EXIT.failed);
    expect(err).toMatch(/litellm-salt-key is not rotated: LiteLLM encrypts the credentials it stores in its database .* with the salt key; a new one makes them unreadable\. It can never change\./);
  });

  it('names what it can rotate for an unknown secret (usage, exit 2)', async () => {
    let err = '';
    expect(await main(['rotate', 'aurora-password', '--env', 'dev'], { stderr: (text) => (err += text), stdout: () => {} })).toBe(EXIT.usage);
    expect(err).toMatch(/unknown secret "aurora-password"; rotate one of: litellm-master-key, valkey-password, webui-secret-key/);
  });

  it('rotates the Valkey password by adding it to the running Valkey, restarting the clients, then Valkey last', () => {
    expect(titles(['valkey-password'])).toEqual([
      'write a new value to Secrets Manager dubai/dev/redis/password (the old one stays as its AWSPREVIOUS version)',
      'add the new password to the running redis/redis (ACL SETUSER default >…), so old and new are both accepted',
      'refresh ExternalSecret litellm/litellm-env, open-webui/open-webui-env, redis/redis-auth now (external-secrets.io/force-sync) and wait until each has synced',
      'restart Deployment litellm/litellm, Deployment open-webui/open-webui (pod template annotation kubectl.kubernetes.io/restartedAt)',
      'wait until litellm/litellm, open-webui/open-webui run only restarted pods',
      'restart Deployment redis/redis (pod template annotation kubectl.kubernetes.io/restartedAt)',
      'wait until redis/redis run only restarted pods',
    ]);
  });

  it('finds every reader of the LiteLLM master key in rendered/dev (LiteLLM, Open WebUI and Prometheus, which scrapes with it), and writes Secrets Manager as a destructive step', () => {
    const plan = rotatePlan(context(['litellm-master-key']), deps);
    expect(plan.steps.map((step) => step.title)).toEqual([
      'write a new value to Secrets Manager dubai/dev/litellm/master-key (the old one stays as its AWSPREVIOUS version)',
      'refresh ExternalSecret litellm/litellm-env, monitoring/litellm-metrics-token, open-webui/open-webui-env now (external-secrets.io/force-sync) and wait until each has synced',
      'restart Deployment litellm/litellm, StatefulSet monitoring/prometheus, Deployment open-webui/open-webui (pod template annotation kubectl.kubernetes.io/restartedAt)',
      'wait until litellm/litellm, monitoring/prometheus, open-webui/open-webui run only restarted pods',
    ]);
    expect(plan.steps[0]!.destructive).toBe(true);
  });

  it('prints that WEBUI_SECRET_KEY logs everyone out, and asks before doing it', async () => {
    let asked = '';
    const lines: string[] = [];
    const code = await main(['rotate', 'webui-secret-key', '--env', 'dev'], { reporter: { info: (line) => lines.push(line), warn: (line) => lines.push(line) }, confirmer: () => ({ confirm: async (question) => ((asked = question), false) }), stdout: () => {}, stderr: () => {} });
    expect(code).toBe(EXIT.declined);
    expect(asked).toMatch(/destructive/);
    expect(lines).toContain('  ! everyone is logged out of Open WebUI: the key signs its session tokens, so every existing session becomes invalid and every user must sign in again');
    expect(lines).toContain('  3. restart Deployment open-webui/open-webui (pod template annotation kubectl.kubernetes.io/restartedAt)');
  });

  it('makes 64 letters and digits, different each time', () => {
    const [a, b] = [newSecretValue(), newSecretValue()];
    expect(a).toMatch(/^[A-Za-z0-9]{64}$/);
    expect(a).not.toBe(b);
  });
});

describe('restore-volume', () => {
  it('refuses a claim that is not rendered, naming the rendered ones (usage, exit 2)', async () => {
    let err = '';
    expect(await main(['restore-volume', 'open-webui/uploads', '--env', 'dev', '--kubeconfig', '/nonexistent'], { stderr: (text) => (err += text), stdout: () => {} })).toBe(EXIT.usage);
    expect(err).toMatch(/rendered\/dev\/ has no PersistentVolumeClaim open-webui\/uploads; rendered claims: (\S+, )*open-webui\/open-webui-data(,|$)/m);
  });

  it('exits 1 naming the kubeconfig when it cannot read it', async () => {
    let err = '';
    expect(await main(['restore-volume', 'open-webui/open-webui-data', '--env', 'dev', '--kubeconfig', '/nonexistent/kubeconfig'], { stderr: (text) => (err += text), stdout: () => {} })).toBe(EXIT.failed);
    expect(err).toMatch(/\/nonexistent\/kubeconfig: cannot read the kubeconfig .*\n {2}fix: run `npm run kubeconfig -- --env NAME` or pass --kubeconfig FILE/);
  });
});

describe('doctor', () => {
  it('reads the intervals of the schedules it checks ages against, and refuses to guess the others', () => {
    expect(cronIntervalHours('30 2 * * *')).toBe(24); // the rendered Longhorn backup job
    expect(cronIntervalHours('0 */6 * * *')).toBe(6); // K3s's etcd snapshots
    expect(cronIntervalHours('0 * * * *')).toBe(1);
    expect(cronIntervalHours('0 3 * * 0')).toBe(168);
    expect(cronIntervalHours('0 3 1 * *')).toBeUndefined();
    expect(cronIntervalHours('every day')).toBeUndefined();
  });

  it('prints one aligned row per check, findings marked', () => {
    expect(formatTable([
      { area: 'Node', object: 'ip-10-0-1-5', ok: true, detail: 'Ready, no pressure' },
      { area: 'ExternalSecret', object: 'litellm/litellm-env', ok: false, detail: 'Ready=False: SecretSyncedError' },
    ])).toEqual([
      '         area            object               detail',
      'ok       Node            ip-10-0-1-5          Ready, no pressure',
      'FINDING  ExternalSecret  litellm/litellm-env  Ready=False: SecretSyncedError',
    ]);
  });
});
