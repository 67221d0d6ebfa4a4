/**
 * One deployed environment on moto_server for the AWS-side ops verb tests:
 * moto started on 127.0.0.1, a scratch copy of the repository, the stack
 * created by the real bootstrap, and after the tests moto stopped by PID and
 * the scratch copy removed. The tests read `root` and call `clients()` (SDK
 * clients against moto, acting as the environment's account, with the gaps of
 * test/support/moto-gaps.ts bridged) and `ops()` (the real ops command line
 * with the verb under test, answers given, output collected).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect } from 'vitest';
import { ListStackResourcesCommand } from '@aws-sdk/client-cloudformation';
import { KMSClient } from '@aws-sdk/client-kms';
import { awsClients, type AwsClients } from '../../bootstrap/lib/aws-clients.js';
import { loadConfig } from '../../bootstrap/lib/environment.js';
import { runBootstrap } from '../../bootstrap/scripts/bootstrap.js';
import { ensurePythonTools, REPO_ROOT, TOOL_INSTALL_TIMEOUT_MS } from '../../bootstrap/tools/python-tools.js';
import type { EnvConfig } from '../../generator/config/schema.js';
import { main } from '../../ops/cli.js';
import type { Verb } from '../../ops/verb.js';
import { startMoto, type MotoServer } from './moto-server.js';
import { actAsAccount, bridgeMotoGaps, holdBucketPolicies } from './moto-gaps.js';
import { scratchRepository } from './scratch-repo.js';

export type MotoClients = AwsClients & { kms: KMSClient };

export interface OpsRun {
  code: number;
  /** Progress lines; warnings prefixed `WARN `. */
  lines: string[];
  err: string;
}

export interface MotoOpsSuite {
  readonly config: EnvConfig;
  readonly stack: string;
  /** The scratch repository the verbs run in (--root). */
  readonly root: string;
  clients(): MotoClients;
  /** Runs `npm run ops -- <argv>` with the suite's verb; `answer` is what a confirmation gets. */
  ops(argv: string[], answer?: boolean): Promise<OpsRun>;
  /** Logical id → physical id of the stack's resources. */
  resources(): Promise<Map<string, string>>;
  /** Runs the real bootstrap again (progress lines collected). */
  bootstrap(): Promise<{ outcome: string; lines: string[] }>;
  /** The scratch copy's environments/<env>.yaml as it is now. */
  envFile(): string;
}

export interface MotoOpsOptions {
  env: string;
  /** Builds the verb under test with the suite's clients. */
  verb: (clients: (config: EnvConfig) => MotoClients) => Verb;
  /** Runs after the first deployment, before the tests. */
  afterDeploy?: (suite: MotoOpsSuite) => Promise<void>;
}

export function useDeployedStack(options: MotoOpsOptions): MotoOpsSuite {
  const config = loadConfig(REPO_ROOT, options.env);
  let moto: MotoServer | undefined;
  let scratch: { root: string; remove: () => void } | undefined;

  const clients = (): MotoClients => {
    if (!moto) throw new Error('moto_server has not started (its beforeAll failed)');
    const common = { region: config.aws.region, endpoint: moto.endpoint, credentials: { accessKeyId: 'AKIAMOTOTEST', secretAccessKey: 'moto' } };
    const made = { ...awsClients(common), kms: new KMSClient(common) };
    actAsAccount([made.cfn, made.sts, made.s3, made.secrets, made.ec2!, made.kms] as never[], config.aws.accountId);
    bridgeMotoGaps(made.cfn, config.aws.region, config.aws.accountId, made.s3);
    holdBucketPolicies(made.s3);
    return made;
  };

  const suite: MotoOpsSuite = {
    config,
    stack: `dubai-${options.env}`,
    get root() {
      if (!scratch) throw new Error('the scratch repository was not made (its beforeAll failed)');
      return scratch.root;
    },
    clients,
    async ops(argv, answer = false) {
      const lines: string[] = [];
      let err = '';
      const code = await main([...argv, '--root', suite.root], {
        verbs: [options.verb(clients)],
        reporter: { info: (line) => lines.push(line), warn: (line) => lines.push(`WARN ${line}`) },
        confirmer: () => ({ confirm: async () => answer }),
        stdout: () => undefined,
        stderr: (text) => (err += text),
      });
      return { code, lines, err };
    },
    async resources() {
      const listed = await clients().cfn.send(new ListStackResourcesCommand({ StackName: suite.stack }));
      return new Map((listed.StackResourceSummaries ?? []).map((resource) => [resource.LogicalResourceId!, resource.PhysicalResourceId ?? '']));
    },
    async bootstrap() {
      const lines: string[] = [];
      const result = await runBootstrap(
        { root: suite.root, env: options.env, yes: true, allowReplace: [], intervalMs: 100, timeoutMs: 120_000 },
        { clients: clients(), reporter: { info: (line) => lines.push(line), warn: (line) => lines.push(`WARN ${line}`) } },
      );
      return { outcome: result.outcome, lines };
    },
    envFile: () => readFileSync(join(suite.root, 'environments', `${options.env}.yaml`), 'utf8'),
  };

  beforeAll(async () => {
    ensurePythonTools();
    moto = await startMoto();
    scratch = scratchRepository(options.env);
    expect((await suite.bootstrap()).outcome).toBe('deployed');
    await options.afterDeploy?.(suite);
  }, TOOL_INSTALL_TIMEOUT_MS);

  afterAll(async () => {
    await moto?.stop();
    scratch?.remove();
  });

  return suite;
}
