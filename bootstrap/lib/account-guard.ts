/** Refuses to touch an account other than the one the environment names. */
import { GetCallerIdentityCommand, type STSClient } from '@aws-sdk/client-sts';
import type { EnvConfig } from '../../generator/config/schema.js';
import { BootstrapError } from './errors.js';

export async function checkAccount(sts: STSClient, config: EnvConfig): Promise<{ account: string; arn: string }> {
  let identity;
  try {
    identity = await sts.send(new GetCallerIdentityCommand({}));
  } catch (error) {
    throw new BootstrapError(
      `cannot tell which AWS account these credentials belong to: ${(error as Error).message}`,
      'sign in first (aws sso login --profile <profile>, then AWS_PROFILE=<profile>), or set AWS credentials in the environment',
    );
  }
  const account = identity.Account ?? '';
  if (account !== config.aws.accountId) {
    throw new BootstrapError(
      `the credentials belong to AWS account ${account || '(unknown)'} (${identity.Arn ?? 'unknown caller'}), but environments/${config.name}.yaml sets aws.accountId ${config.aws.accountId}; nothing was changed`,
      `use credentials for account ${config.aws.accountId} (e.g. AWS_PROFILE of that account), or correct aws.accountId in environments/${config.name}.yaml`,
    );
  }
  return { account, arn: identity.Arn ?? '' };
}
