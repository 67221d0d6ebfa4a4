/**
 * Exceptions to the policy rules are made only by an annotation on the object
 * that names the rule and gives the reason; the validation report lists them.
 */
export const POLICY_EXCEPTION_PREFIX = 'policy.dubai-hub.example/allow-';

export function policyException(ruleId: string, reason: string): Record<string, string> {
  return { [`${POLICY_EXCEPTION_PREFIX}${ruleId}`]: reason };
}
