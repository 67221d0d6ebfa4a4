/**
 * One reading of a change set's Replacement everywhere: only "False" means the
 * resource stays; "True", "Conditional", a value CloudFormation adds later or
 * none at all count as replacing in the refusal, the listing and the summary.
 */
import { describe, expect, it } from 'vitest';
import { destructiveChanges, formatChanges, losesQuorum, mayReplace, quorumCheck, summarizeChanges, type PlannedChange } from '../bootstrap/lib/change-set.js';

const modify = (logicalId: string, type: string, replacement: string | undefined): PlannedChange => ({
  logicalId,
  type,
  action: 'Modify',
  ...(replacement === undefined ? {} : { replacement }),
  details: ['Engine'],
});

describe('change-set Replacement values', () => {
  it.each([['True'], ['Conditional'], ['Sometimes'], [undefined]])('%s counts as replacing in the refusal, the listing and the summary', (replacement) => {
    const change = modify('AuroraCluster', 'AWS::RDS::DBCluster', replacement);
    expect(mayReplace(change)).toBe(true);
    expect(destructiveChanges([change])).toEqual([change]);
    expect(formatChanges([change])[0]).toMatch(/REPLACE/);
    expect(summarizeChanges([change])).toBe('0 to add, 1 to modify (1 replacing), 0 to remove');
  });

  it('"False" is the only value that keeps the resource', () => {
    const change = modify('AuroraCluster', 'AWS::RDS::DBCluster', 'False');
    expect(mayReplace(change)).toBe(false);
    expect(destructiveChanges([change])).toEqual([]);
    expect(formatChanges([change])[0]).not.toMatch(/REPLACE/);
    expect(summarizeChanges([change])).toBe('0 to add, 1 to modify (0 replacing), 0 to remove');
  });

  it('names the value CloudFormation gave when it is not a plain True', () => {
    expect(formatChanges([modify('NodeInstance', 'AWS::EC2::Instance', 'Sometimes')])[0]).toMatch(/may REPLACE the resource \(Replacement: Sometimes\)/);
    expect(formatChanges([modify('NodeInstance', 'AWS::EC2::Instance', 'True')])[0]).toMatch(/\(REPLACES the resource; Engine\)/);
  });
});

describe('the server set keeps its etcd quorum', () => {
  const server = (logicalId: string, action: 'Add' | 'Modify' | 'Remove', replacement?: string): PlannedChange => ({ logicalId, type: 'AWS::EC2::Instance', action, ...(replacement ? { replacement } : {}), details: ['ImageId'] });

  it('refuses an AMI change that replaces two of three servers at once', () => {
    const check = quorumCheck([server('NodeInstance', 'Modify', 'True'), server('Server2Instance', 'Modify', 'True'), server('Server3Instance', 'Modify', 'False')], 3);
    expect(check).toMatchObject({ before: 3, tolerance: 1 });
    expect(check.lost.map((change) => change.logicalId)).toEqual(['NodeInstance', 'Server2Instance']);
    expect(losesQuorum(check)).toBe(true);
  });

  it('lets one server of three be replaced, and two of five', () => {
    expect(losesQuorum(quorumCheck([server('Server2Instance', 'Modify', 'True')], 3))).toBe(false);
    expect(losesQuorum(quorumCheck([server('NodeInstance', 'Modify', 'True'), server('Server4Instance', 'Modify', 'Conditional')], 5))).toBe(false);
    expect(losesQuorum(quorumCheck([server('NodeInstance', 'Modify', 'True'), server('Server4Instance', 'Modify', 'Conditional'), server('Server5Instance', 'Modify', 'True')], 5))).toBe(true);
  });

  it('counts servers a change removes (scaling five down to three in one run loses two of five... and more would be refused)', () => {
    const down = quorumCheck([server('Server4Instance', 'Remove'), server('Server5Instance', 'Remove')], 3);
    expect(down).toMatchObject({ before: 5, tolerance: 2 });
    expect(losesQuorum(down)).toBe(false);
    const downAndReplace = quorumCheck([server('Server4Instance', 'Remove'), server('Server5Instance', 'Remove'), server('NodeInstance', 'Modify', 'True')], 3);
    expect(losesQuorum(downAndReplace)).toBe(true);
  });

  it('does not count servers it adds, and never guards a single server (replacing it is a rebuild the bootstrap already warns about)', () => {
    const growing = quorumCheck([server('Server2Instance', 'Add'), server('Server3Instance', 'Add'), server('NodeInstance', 'Modify', 'False')], 3);
    expect(growing).toMatchObject({ before: 1, lost: [] });
    expect(losesQuorum(growing)).toBe(false);
    expect(losesQuorum(quorumCheck([server('NodeInstance', 'Modify', 'True')], 1))).toBe(false);
    // Other resources named like data volumes are not servers.
    expect(quorumCheck([{ logicalId: 'Server2DataVolume', type: 'AWS::EC2::Volume', action: 'Remove', details: [] }], 3).lost).toEqual([]);
  });
});
