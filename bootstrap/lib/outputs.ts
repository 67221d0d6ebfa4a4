/**
 * Turns the stack outputs into environments/<env>.outputs.yaml: checked
 * against the same schema the generator loads it with, so the next render
 * uses it. Only names, endpoints and ARNs: never a secret value.
 */
import { DescribeStacksCommand, type CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { writeFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { formatIssues } from '../../generator/config/errors.js';
import { outputsSchema, type BootstrapOutputs } from '../../generator/config/schema.js';
import { checkSchema } from '../../generator/config/schema-check.js';
import { parseYaml } from '../../generator/config/yaml-source.js';
import { OUTPUTS } from '../names.js';
import { BootstrapError } from './errors.js';

export async function readStackOutputs(cfn: CloudFormationClient, stackName: string): Promise<Record<string, string>> {
  const described = await cfn.send(new DescribeStacksCommand({ StackName: stackName }));
  const outputs: Record<string, string> = {};
  for (const output of described.Stacks?.[0]?.Outputs ?? []) {
    if (output.OutputKey && output.OutputValue !== undefined) outputs[output.OutputKey] = output.OutputValue;
  }
  return outputs;
}

export function toBootstrapOutputs(stackName: string, outputs: Record<string, string>): BootstrapOutputs {
  const missing = Object.values(OUTPUTS).filter((key) => outputs[key] === undefined || outputs[key] === '');
  const needed = [OUTPUTS.auroraEndpoint, OUTPUTS.auroraPort, OUTPUTS.auroraMasterUserSecretArn, OUTPUTS.attachmentsBucket, OUTPUTS.longhornBackupsBucket, OUTPUTS.etcdSnapshotsBucket, OUTPUTS.kubeconfigBucket, OUTPUTS.externalSecretsRoleArn, OUTPUTS.longhornRoleArn, OUTPUTS.openWebUIRoleArn];
  const missingNeeded = needed.filter((key) => missing.includes(key));
  if (missingNeeded.length > 0) {
    throw new BootstrapError(
      `stack ${stackName} has no output ${missingNeeded.join(', ')}`,
      'the stack may predate this template version: run bootstrap again so the current template (with these outputs) is deployed',
    );
  }
  const get = (key: string) => outputs[key]!;
  return {
    source: 'bootstrap',
    stackName,
    aurora: { endpoint: get(OUTPUTS.auroraEndpoint), port: Number(get(OUTPUTS.auroraPort)), masterUserSecretArn: get(OUTPUTS.auroraMasterUserSecretArn) },
    buckets: {
      attachments: get(OUTPUTS.attachmentsBucket),
      longhornBackups: get(OUTPUTS.longhornBackupsBucket),
      etcdSnapshots: get(OUTPUTS.etcdSnapshotsBucket),
      kubeconfig: get(OUTPUTS.kubeconfigBucket),
    },
    roles: {
      externalSecrets: get(OUTPUTS.externalSecretsRoleArn),
      longhorn: get(OUTPUTS.longhornRoleArn),
      openWebUI: get(OUTPUTS.openWebUIRoleArn),
      ...(outputs[OUTPUTS.certManagerRoleArn] ? { certManager: get(OUTPUTS.certManagerRoleArn) } : {}),
    },
  };
}

export function outputsFileText(envName: string, outputs: BootstrapOutputs): string {
  return [
    '# yaml-language-server: $schema=./outputs.schema.json',
    `# Written by \`npm run bootstrap -- --env ${envName}\` from the outputs of stack ${outputs.stackName}. No secret values; commit it and re-render.`,
    stringify(outputs, { lineWidth: 0 }),
  ].join('\n');
}

/** Writes environments/<env>.outputs.yaml atomically after checking it against outputsSchema. */
export function writeOutputsFile(root: string, envName: string, outputs: BootstrapOutputs): string {
  const relativePath = `environments/${envName}.outputs.yaml`;
  const text = outputsFileText(envName, outputs);
  const issues = checkSchema(outputsSchema, parseYaml(text, relativePath));
  if (issues.length > 0) {
    throw new BootstrapError(`the stack outputs do not fit the outputs schema, so ${relativePath} was not written:\n${formatIssues(issues)}`, 'compare the stack outputs with generator/config/schema.ts (outputsSchema)');
  }
  const target = join(root, relativePath);
  writeFileSync(`${target}.tmp`, text);
  renameSync(`${target}.tmp`, target);
  return relativePath;
}
