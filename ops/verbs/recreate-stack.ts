/**
 * npm run ops -- recreate-stack --env NAME [--kms-key KEY_ID]
 *
 * The stack was deleted; its buckets, secrets and KMS key were retained and
 * keep their names, so `npm run bootstrap` would clash with them. This
 * imports them into a new stack (an IMPORT change set with
 * ResourcesToImport; see bootstrap/lib/retained.ts for why import), then runs
 * the bootstrap to update that stack to the full rendered template, which
 * creates everything else and writes the outputs file.
 */
import { CreateChangeSetCommand, DeleteChangeSetCommand, DescribeChangeSetCommand } from '@aws-sdk/client-cloudformation';
import { KMSClient } from '@aws-sdk/client-kms';
import type { EnvConfig } from '../../generator/config/schema.js';
import { checkAccount } from '../../bootstrap/lib/account-guard.js';
import { awsClients, clientsInRegion, type AwsClients } from '../../bootstrap/lib/aws-clients.js';
import { stackState, stackTags } from '../../bootstrap/lib/change-set.js';
import { executeAndWait } from '../../bootstrap/lib/deploy.js';
import { readRenderedStack } from '../../bootstrap/lib/environment.js';
import { BootstrapError } from '../../bootstrap/lib/errors.js';
import { pollUntil, type Clock } from '../../bootstrap/lib/polling.js';
import { AmbiguousKey, findRetained, importTemplate, resourcesToImport } from '../../bootstrap/lib/retained.js';
import { templateSource } from '../../bootstrap/lib/template-upload.js';
import { stackName as stackNameOf } from '../../bootstrap/names.js';
import { runBootstrap } from '../../bootstrap/scripts/bootstrap.js';
import type { CfnTemplate } from '../../bootstrap/template/cfn.js';
import { EXIT, executePlan, type Plan } from '../plan.js';
import type { Verb, VerbContext } from '../verb.js';

export interface RecreateStackDeps {
  clients?: (config: EnvConfig) => AwsClients & { kms: KMSClient };
  clock?: Clock;
  intervalMs?: number;
}

export async function planRecreateStack(context: VerbContext, deps: RecreateStackDeps = {}): Promise<Plan | undefined> {
  const { config, root, run } = context;
  const { reporter } = run;
  const clients = (deps.clients ?? ((c: EnvConfig) => ({ ...awsClients({ region: c.aws.region }), kms: new KMSClient({ region: c.aws.region }) })))(config);
  const stack = stackNameOf(config);
  const caller = await checkAccount(clients.sts, config);
  reporter.info(`✓ credentials are for account ${caller.account}`);
  const state = await stackState(clients.cfn, stack);
  if (state.exists && state.status !== 'REVIEW_IN_PROGRESS') {
    throw new BootstrapError(`stack ${stack} exists (${state.status}); recreate-stack only re-creates a deleted stack`, `run \`npm run bootstrap -- --env ${config.name}\` to update it`);
  }
  const rendered = readRenderedStack(root, config);
  const template = JSON.parse(rendered.templateBody) as CfnTemplate;
  reporter.info(`Looking for what the deleted stack ${stack} retained…`);
  let retained;
  try {
    retained = await findRetained(template, clients, typeof context.values['kms-key'] === 'string' ? context.values['kms-key'] : undefined);
  } catch (error) {
    if (error instanceof AmbiguousKey) throw new BootstrapError(error.message, 'name the key the data is encrypted with: --kms-key KEY_ID (the others are left alone)');
    throw error;
  }
  for (const resource of retained) reporter.info(`  ${resource.logicalId.padEnd(28)} ${resource.type.padEnd(28)} ${resource.name}`);
  if (retained.length === 0) {
    reporter.info(`✓ nothing of ${stack} was retained here: \`npm run bootstrap -- --env ${config.name}\` creates the stack without clashing`);
    return undefined;
  }
  const missing = Object.entries(template.Resources).filter(([id, resource]) => ['AWS::S3::Bucket', 'AWS::SecretsManager::Secret', 'AWS::KMS::Key'].includes(resource.Type) && !retained.some((found) => found.logicalId === id));
  const changeSetName = `recreate-${(deps.clock?.now() ?? Date.now()).toString()}`;
  const consequences = [
    `adopts ${retained.length} retained resource(s) with their data; nothing is copied or renamed`,
    'Aurora comes back as a new, empty cluster: the deleted one left a final snapshot (aws rds describe-db-cluster-snapshots); restore it before the apps write',
  ];
  if (missing.length > 0) consequences.push(`not found, so created new by the update: ${missing.map(([id]) => id).join(', ')}`);
  return {
    summary: `re-create stack ${stack}, importing ${retained.length} retained resource(s), then update it to rendered/${config.name}/bootstrap/`,
    consequences,
    steps: [
      {
        title: `create IMPORT change set ${changeSetName} adopting ${retained.map((resource) => resource.logicalId).join(', ')}`,
        run: async () => {
          const imported = importTemplate(template, retained);
          const body = JSON.stringify(imported);
          const source = await templateSource(clients.s3, config, body, (line) => reporter.info(line));
          await clients.cfn.send(
            new CreateChangeSetCommand({
              StackName: stack,
              ChangeSetName: changeSetName,
              ChangeSetType: 'IMPORT',
              ResourcesToImport: resourcesToImport(retained),
              ...('templateUrl' in source ? { TemplateURL: source.templateUrl } : { TemplateBody: source.templateBody }),
              // Only the parameters the import template declares (not, e.g., the replica key's, which the bootstrap looks up).
              Parameters: rendered.parameters.filter((parameter) => parameter.ParameterKey !== undefined && parameter.ParameterKey in imported.Parameters),
              Tags: stackTags(config),
              Capabilities: ['CAPABILITY_IAM'],
              Description: 'npm run ops -- recreate-stack',
            }),
          );
          const ready = await pollUntil(
            `change set ${changeSetName}`,
            async () => {
              const described = await clients.cfn.send(new DescribeChangeSetCommand({ StackName: stack, ChangeSetName: changeSetName }));
              const status = described.Status ?? 'UNKNOWN';
              return { done: status === 'CREATE_COMPLETE' || status === 'FAILED' ? { status, reason: described.StatusReason ?? '' } : undefined, state: status };
            },
            { timeoutMs: 5 * 60_000, intervalMs: deps.intervalMs ?? 3_000, clock: deps.clock },
          );
          if (ready.status === 'FAILED') {
            await clients.cfn.send(new DeleteChangeSetCommand({ StackName: stack, ChangeSetName: changeSetName }));
            throw new BootstrapError(`CloudFormation refused the import: ${ready.reason}`, 'the retained resource may be owned by another stack, or scheduled for deletion (secrets: aws secretsmanager restore-secret)');
          }
        },
      },
      {
        title: `execute ${changeSetName} and wait for IMPORT_COMPLETE`,
        run: async () => {
          const status = await executeAndWait(clients.cfn, stack, changeSetName, { reporter, clock: deps.clock, intervalMs: deps.intervalMs });
          if (status !== 'IMPORT_COMPLETE') throw new BootstrapError(`the import ended in ${status}`, 'read the stack events above; the retained resources are unchanged');
        },
      },
      {
        title: `update ${stack} to the full template with npm run bootstrap (creates the rest, writes environments/${config.name}.outputs.yaml)`,
        run: async () => {
          const result = await runBootstrap({ root, env: config.name, yes: true, allowReplace: [], intervalMs: deps.intervalMs }, { clients, clientsIn: clientsInRegion(deps.clients, config), reporter, clock: deps.clock });
          if (result.outcome !== 'deployed') throw new BootstrapError(`the bootstrap ended with "${result.outcome}" instead of updating the imported stack`);
        },
      },
    ],
  };
}

export function recreateStackVerb(deps: RecreateStackDeps = {}): Verb {
  return {
    name: 'recreate-stack',
    summary: 'Re-create a deleted stack, importing its retained buckets, secrets and KMS key instead of clashing with them',
    usage: '[--kms-key KEY_ID]',
    options: { 'kms-key': { type: 'string' } },
    async run(context) {
      const plan = await planRecreateStack(context, deps);
      return plan ? executePlan(plan, context.run) : EXIT.ok;
    },
  };
}

export const recreateStack = recreateStackVerb();
