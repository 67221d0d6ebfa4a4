/**
 * One reading of a change set's Replacement everywhere: only "False" means the
 * resource stays; "True", "Conditional", a value CloudFormation adds later or
 * none at all count as replacing in the refusal, the listing and the summary.
 */
import { describe, expect, it } from 'vitest';
import { destructiveChanges, formatChanges, mayReplace, summarizeChanges, type PlannedChange } from '../bootstrap/lib/change-set.js';

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
