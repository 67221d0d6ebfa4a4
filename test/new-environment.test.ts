/**
 * `npm run env:new` end to end in temporary copies of the repository: the
 * scaffolded environment renders with the real commands, passes the gates,
 * and nothing rendered for it names another environment.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { listEnvironments, loadEnvironment } from '../generator/config/load-environment.js';
import { openWebUIHost } from '../generator/platform-names.js';
import { freeVpcCidr, subnetsOf } from '../generator/scaffold-environment.js';
import { readTree } from '../generator/write-rendered.js';
import { loadIssues } from './support/config-issues.js';
import { readmeSection, stepPositions } from './support/readme.js';
import { copyOfRepository, REPO_ROOT, type TempRepo } from './support/temp-repo.js';

let repo: TempRepo | undefined;
afterEach(() => {
  repo?.cleanup();
  repo = undefined;
});

const npm = (script: string, ...args: string[]) => spawnSync('npm', ['run', '-s', script, '--', ...args], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 240_000 });
const envNew = (root: string, ...args: string[]) => npm('env:new', '--root', root, ...args);

/** Strings that name one of the repository's environments: account, stack, buckets, endpoint, prefix, hostnames, files. */
function namesOf(env: string): string[] {
  const { config, outputs } = loadEnvironment(REPO_ROOT, env);
  const host = (label: string) => `${label}.${config.hostnames.tailnetDomain}`;
  return [
    config.aws.accountId,
    outputs.stackName,
    ...Object.values(outputs.buckets),
    outputs.aurora.endpoint,
    outputs.aurora.masterUserSecretArn,
    config.secretsManager.prefix,
    openWebUIHost(config),
    host(config.hostnames.argocd),
    host(config.hostnames.node),
    `environments/${env}.yaml`,
    `rendered/${env}/`,
  ];
}

const SEQUENCE = {
  scaffold: ['--name', 'qa', '--from', 'staging', '--account', '123456789012'],
  commit: 'git add environments/qa.yaml environments/qa.outputs.yaml rendered/qa && git commit',
};

describe('npm run env:new', () => {
  it('is the sequence README "Adding an environment" documents: scaffold, render, commit', () => {
    const positions = stepPositions(readmeSection('Adding an environment'), [`npm run env:new -- ${SEQUENCE.scaffold.join(' ')}`, 'npm run render', SEQUENCE.commit]);
    expect(positions.filter((position) => position < 0)).toEqual([]);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
  });

  it('scaffolds qa from staging; the real render and gates pass and nothing rendered for qa names another environment', () => {
    repo = copyOfRepository();
    const scaffold = envNew(repo.root, ...SEQUENCE.scaffold);
    expect(scaffold.stderr).toBe('');
    expect(scaffold.status).toBe(0);
    expect(scaffold.stdout).toContain('wrote environments/qa.yaml (from staging, VPC 10.40.0.0/16)');

    const text = readFileSync(join(repo.root, 'environments', 'qa.yaml'), 'utf8');
    expect(text.split('\n').slice(0, 3)).toEqual(['# yaml-language-server: $schema=./environment.schema.json', '# qa: scaffolded from staging by `npm run env:new`; change what differs from staging.', 'name: qa']);
    const { config, outputs } = loadEnvironment(repo.root, 'qa');
    expect(config.tier).toBe('staging');
    expect(config.aws.accountId).toBe('123456789012');
    expect(config.secretsManager.prefix).toBe('dubai/qa/');
    expect(config.hostnames).toMatchObject({ openWebUI: 'chat-qa', argocd: 'argocd-qa', node: 'k3s-qa' });
    // staging spans three zones: so does qa, in its own VPC.
    expect(config.network).toEqual({ vpcCidr: '10.40.0.0/16', publicSubnetCidr: '10.40.0.0/24', additionalPublicSubnetCidrs: ['10.40.1.0/24', '10.40.2.0/24'], privateSubnetCidrs: ['10.40.10.0/24', '10.40.11.0/24'] });
    expect(config.cluster.servers).toBe(3);
    expect(outputs).toEqual({
      source: 'placeholder',
      stackName: 'dubai-qa',
      aurora: { endpoint: 'dubai-qa.cluster-placeholder.me-central-1.rds.amazonaws.com', port: 5432, masterUserSecretArn: 'arn:aws:secretsmanager:me-central-1:123456789012:secret:rds!cluster-placeholder-qa' },
      buckets: { attachments: 'dubai-qa-attachments-123456789012', longhornBackups: 'dubai-qa-longhorn-backups-123456789012', etcdSnapshots: 'dubai-qa-etcd-snapshots-123456789012', kubeconfig: 'dubai-qa-kubeconfig-123456789012' },
      roles: {
        externalSecrets: 'arn:aws:iam::123456789012:role/dubai-qa-external-secrets',
        longhorn: 'arn:aws:iam::123456789012:role/dubai-qa-longhorn',
        openWebUI: 'arn:aws:iam::123456789012:role/dubai-qa-open-webui',
      },
    });

    const render = npm('render', '--root', repo.root);
    expect(render.stderr).toBe('');
    expect(render.status).toBe(0);
    expect(render.stdout).toMatch(/^qa +\d+ resources in \d+ folders +\d+ ms +\d+ added {2}\(rendered from placeholder outputs until `npm run bootstrap -- --env qa` writes the real ones\)$/m);
    expect(render.stdout).toMatch(/^staging .* unchanged/m);
    expect(npm('render', '--root', repo.root, '--check').status).toBe(0);

    const tree = readTree(join(repo.root, 'rendered', 'qa'));
    expect(tree.size).toBeGreaterThan(50);
    expect(tree.get('README.md')).toContain('> **Placeholders.** This environment is rendered from placeholder outputs until `npm run bootstrap -- --env qa`');
    expect([...tree.values()].join('\n')).toContain('dubai-qa-longhorn-backups-123456789012');
    const others = listEnvironments(join(REPO_ROOT, 'environments'));
    expect(others).toEqual(['dev', 'prod', 'staging']);
    const leaks = [];
    for (const other of others) {
      // The search can fail: each environment's own render names most of these.
      const own = [...readTree(join(REPO_ROOT, 'rendered', other)).values()].join('\n');
      expect(namesOf(other).filter((name) => own.includes(name)).length, other).toBeGreaterThanOrEqual(8);
      for (const name of namesOf(other)) {
        for (const [file, content] of tree) if (content.includes(name)) leaks.push(`${file} names ${other}'s ${name}`);
      }
    }
    expect(leaks).toEqual([]);

    // The commit the README names takes exactly the scaffolded files and the new folder.
    const git = (script: string) => spawnSync('sh', ['-c', script], { cwd: repo!.root, encoding: 'utf8', timeout: 60_000, env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@example.com', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@example.com' } });
    expect(git("git init -q && git add -A -- . ':!environments/qa.yaml' ':!environments/qa.outputs.yaml' ':!rendered/qa' && git commit -qm base").status).toBe(0);
    expect(git(`${SEQUENCE.commit} -qm qa`).status).toBe(0);
    expect(git('git show --name-only --format= HEAD').stdout.trim().split('\n')).toHaveLength(tree.size + 2);
    expect(git('git status --porcelain').stdout).toBe('');
    const validate = npm('validate', '--root', repo.root, '--env', 'qa', '--gate', 'schema', '--gate', 'policy', '--gate', 'secrets');
    expect(validate.stdout + validate.stderr).toMatch(/^validate: passed/m);
    expect(validate.status).toBe(0);
  }, 300_000);

  it('says what is missing or wrong on the command line, with the usage', () => {
    repo = copyOfRepository(false);
    const missing = envNew(repo.root, '--name', 'qa', '--from', 'staging');
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/^missing --account\n\nUsage: npm run env:new/);
    const account = envNew(repo.root, '--name', 'qa', '--from', 'staging', '--account', '12345');
    expect(account.status).toBe(1);
    expect(account.stderr).toContain('environments/qa.yaml: aws.accountId: --account 12345 is not an AWS account id');
    expect(existsSync(join(repo.root, 'environments', 'qa.yaml'))).toBe(false);
  }, 120_000);

  it('refuses an existing name and writes nothing', () => {
    repo = copyOfRepository(false);
    const before = readFileSync(join(repo.root, 'environments', 'staging.yaml'), 'utf8');
    const result = envNew(repo.root, '--name', 'staging', '--from', 'dev', '--account', '123456789012');
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('environments/staging.yaml: name: environment "staging" already exists\n  expected: a name no environment has\n  fix: choose another --name (existing: dev, prod, staging)');
    expect(result.stderr).toContain('Nothing was written.');
    expect(readFileSync(join(repo.root, 'environments', 'staging.yaml'), 'utf8')).toBe(before);
  }, 120_000);

  it('chooses a VPC range free in the account and region, and refuses a given one that overlaps', () => {
    repo = copyOfRepository(false);
    expect(envNew(repo.root, '--name', 'qa', '--from', 'dev', '--account', '210987654321').stdout).toContain('VPC 10.41.0.0/16');
    const clash = envNew(repo.root, '--name', 'qa2', '--from', 'dev', '--account', '210987654321', '--vpc-cidr', '10.41.128.0/20');
    expect(clash.status).toBe(1);
    expect(clash.stderr).toContain('environments/qa2.yaml: network.vpcCidr: --vpc-cidr 10.41.128.0/20 overlaps 10.41.0.0/16 of environment qa in account 210987654321, me-central-1');
    expect(clash.stderr).toContain('fix: leave --vpc-cidr out to get 10.44.0.0/16, or choose another');
    expect(existsSync(join(repo.root, 'environments', 'qa2.yaml'))).toBe(false);
    const given = envNew(repo.root, '--name', 'qa2', '--from', 'dev', '--account', '210987654321', '--vpc-cidr', '10.60.16.0/20');
    expect(given.status).toBe(0);
    expect(loadEnvironment(repo.root, 'qa2').config.network).toEqual({ vpcCidr: '10.60.16.0/20', publicSubnetCidr: '10.60.16.0/24', additionalPublicSubnetCidrs: [], privateSubnetCidrs: ['10.60.26.0/24', '10.60.27.0/24'] });
  }, 120_000);

  it('outputs copied from dev are refused for qa, field by field', () => {
    repo = copyOfRepository(false);
    expect(envNew(repo.root, '--name', 'qa', '--from', 'dev', '--account', '123456789012').status).toBe(0);
    const devOutputs = readFileSync(join(repo.root, 'environments', 'dev.outputs.yaml'), 'utf8');
    // Only the ARN "fixed", as the issue reproduces.
    writeFileSync(join(repo.root, 'environments', 'qa.outputs.yaml'), devOutputs.replace(':210987654321:secret:', ':123456789012:secret:'));
    const issues = loadIssues(repo.root, 'qa');
    expect(issues.map((issue) => `${issue.file}:${issue.line}: ${issue.path}: ${issue.problem}`)).toEqual([
      'environments/qa.outputs.yaml:4: stackName: stack "dubai-dev" is environment dev\'s',
      'environments/qa.outputs.yaml:10: buckets.attachments: bucket "dubai-dev-attachments-210987654321" is environment dev\'s',
      'environments/qa.outputs.yaml:11: buckets.longhornBackups: bucket "dubai-dev-longhorn-backups-210987654321" is environment dev\'s',
      'environments/qa.outputs.yaml:12: buckets.etcdSnapshots: bucket "dubai-dev-etcd-snapshots-210987654321" is environment dev\'s',
      'environments/qa.outputs.yaml:13: buckets.kubeconfig: bucket "dubai-dev-kubeconfig-210987654321" is environment dev\'s',
      'environments/qa.outputs.yaml:15: roles.externalSecrets: role "arn:aws:iam::210987654321:role/dubai-dev-external-secrets" is environment dev\'s',
      'environments/qa.outputs.yaml:16: roles.longhorn: role "arn:aws:iam::210987654321:role/dubai-dev-longhorn" is environment dev\'s',
      'environments/qa.outputs.yaml:17: roles.openWebUI: role "arn:aws:iam::210987654321:role/dubai-dev-open-webui" is environment dev\'s',
      'environments/qa.outputs.yaml:6: aurora.endpoint: Aurora endpoint "dubai-dev.cluster-placeholder.me-central-1.rds.amazonaws.com" is environment dev\'s',
    ]);
    expect(issues[0]!.expected).toBe("the environment's own stack, dubai-qa");
    expect(issues[0]!.fix).toBe('set stackName: dubai-qa, the name derived from environments/qa.yaml (`npm run bootstrap -- --env qa` later writes the real file)');
  }, 120_000);
});

describe('VPC layout', () => {
  it('takes the first 10.x.0.0/16 from 10.40 that overlaps nothing used', () => {
    expect(freeVpcCidr([])).toBe('10.40.0.0/16');
    expect(freeVpcCidr(['10.40.0.0/16', '10.41.8.0/22'])).toBe('10.44.0.0/16');
  });

  it('puts the public subnet first, the further zones\' next, and the private ones at the 11th and 12th /24', () => {
    expect(subnetsOf('10.52.0.0/16')).toEqual({ publicSubnetCidr: '10.52.0.0/24', additionalPublicSubnetCidrs: ['10.52.1.0/24', '10.52.2.0/24'], privateSubnetCidrs: ['10.52.10.0/24', '10.52.11.0/24'] });
  });
});
