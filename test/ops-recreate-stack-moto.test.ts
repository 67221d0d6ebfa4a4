/**
 * A deleted stack and what it retained, on moto_server: the dev stack is
 * created by the real bootstrap and deleted; its buckets, secrets and KMS key
 * stay; `npm run ops -- recreate-stack` finds exactly those and plans their
 * import. moto has no IMPORT change sets (test/support/moto-gaps.ts, gap 11):
 * the import and the update after it run in test/ops-recreate-stack.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { CreateKeyCommand, DescribeKeyCommand, ScheduleKeyDeletionCommand } from '@aws-sdk/client-kms';
import { HeadBucketCommand } from '@aws-sdk/client-s3';
import { CreateSecretCommand } from '@aws-sdk/client-secrets-manager';
import { stackState } from '../bootstrap/lib/change-set.js';
import { loadConfig } from '../bootstrap/lib/environment.js';
import { bucketName, BUCKET_PURPOSES, type BucketKey } from '../bootstrap/names.js';
import { REPO_ROOT } from '../bootstrap/tools/python-tools.js';
import { EXIT } from '../ops/plan.js';
import { recreateStackVerb } from '../ops/verbs/recreate-stack.js';
import { deleteStackOnMoto } from './support/moto-gaps.js';
import { useDeployedStack } from './support/moto-ops-suite.js';

const ENV = 'dev';
const STACK = 'dubai-dev';
const config = loadConfig(REPO_ROOT, ENV);
// moto's CloudFormation cannot create secrets (gap 1): these two stand for the ones the stack made.
const SECRETS = ['litellm/master-key', 'k3s/token'];

const suite = useDeployedStack({
  env: ENV,
  verb: (clients) => recreateStackVerb({ clients, intervalMs: 100 }),
  afterDeploy: async ({ clients }) => {
    const made = clients();
    for (const name of SECRETS) await made.secrets.send(new CreateSecretCommand({ Name: `${config.secretsManager.prefix}${name}`, SecretString: 'kept-value' }));
  },
});
const { ops, clients } = suite;

let keyId = '';

describe('recreate-stack against moto_server', () => {
  it('refuses while the stack exists', async () => {
    const result = await ops(['recreate-stack', '--env', ENV]);
    expect(result.code).toBe(EXIT.failed);
    expect(result.err).toMatch(/stack dubai-dev exists \(CREATE_COMPLETE\); recreate-stack only re-creates a deleted stack\n {2}fix: run `npm run bootstrap -- --env dev`/);
  }, 60_000);

  it('after the stack is deleted, finds every retained bucket, secret and the key, and plans their import (dry run)', async () => {
    const made = clients();
    await deleteStackOnMoto(made.cfn, STACK);
    expect((await stackState(made.cfn, STACK)).exists).toBe(false);
    // What the deleted stack retained is still there.
    for (const key of Object.keys(BUCKET_PURPOSES) as BucketKey[]) await made.s3.send(new HeadBucketCommand({ Bucket: bucketName(config, key) }));

    const result = await ops(['recreate-stack', '--env', ENV, '--dry-run']);
    expect(result.err).toBe('');
    expect(result.code).toBe(EXIT.ok);
    const found = result.lines.filter((line) => /^ {2}[A-Z]\w+ +AWS::/.test(line)).map((line) => line.trim().split(/\s+/));
    expect(found.map(([id]) => id).sort()).toEqual(['AccessLogsBucket', 'AlertsKey', 'AttachmentsBucket', 'EtcdSnapshotsBucket', 'KmsKey', 'KubeconfigBucket', 'LonghornBackupsBucket', 'OidcBucket', 'SecretK3sToken', 'SecretLitellmMasterKey']);
    expect(found).toContainEqual(['AttachmentsBucket', 'AWS::S3::Bucket', bucketName(config, 'attachments')]);
    expect(found).toContainEqual(['SecretK3sToken', 'AWS::SecretsManager::Secret', 'dubai/dev/k3s/token']);
    keyId = found.find(([id]) => id === 'KmsKey')![2]!;
    expect((await made.kms.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata?.KeyState).toBe('Enabled');
    expect(result.lines).toEqual(
      expect.arrayContaining([
        "re-create stack dubai-dev, importing 10 retained resource(s), then update it to rendered/dev/bootstrap/",
        expect.stringMatching(/^ {2}! not found, so created new by the update: .*SecretOpenwebuiSecretKey/),
        expect.stringMatching(/^ {2}1\. create IMPORT change set recreate-\d+ adopting AccessLogsBucket, AlertsKey, AttachmentsBucket, /),
        expect.stringMatching(/^ {2}2\. execute recreate-\d+ and wait for IMPORT_COMPLETE$/),
        'dry run: nothing was changed',
      ]),
    );
    expect((await stackState(made.cfn, STACK)).exists).toBe(false);
  }, 120_000);

  it('refuses to guess between two keys of the stack, and takes the one named with --kms-key', async () => {
    const made = clients();
    const original = await made.kms.send(new DescribeKeyCommand({ KeyId: keyId }));
    const other = await made.kms.send(new CreateKeyCommand({ Description: original.KeyMetadata!.Description! }));
    const ambiguous = await ops(['recreate-stack', '--env', ENV, '--dry-run']);
    expect(ambiguous.code).toBe(EXIT.failed);
    expect(ambiguous.err).toMatch(/2 enabled KMS keys carry the description "dubai-dev: encrypts[^"]*": /);
    expect(ambiguous.err).toContain('fix: name the key the data is encrypted with: --kms-key KEY_ID');
    const named = await ops(['recreate-stack', '--env', ENV, '--dry-run', '--kms-key', keyId]);
    expect(named.code).toBe(EXIT.ok);
    expect(named.lines.some((line) => new RegExp(`^ {2}KmsKey +AWS::KMS::Key +${keyId}$`).test(line))).toBe(true);
    // A key scheduled for deletion is not a candidate.
    await made.kms.send(new ScheduleKeyDeletionCommand({ KeyId: other.KeyMetadata!.KeyId!, PendingWindowInDays: 7 }));
    expect((await ops(['recreate-stack', '--env', ENV, '--dry-run'])).code).toBe(EXIT.ok);
  }, 60_000);
});
