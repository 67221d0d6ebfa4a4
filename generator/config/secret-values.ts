/**
 * Recognises strings that look like secret values rather than names, so an
 * API key pasted into an environment file is refused before it reaches git.
 */
import { keyFormatOfValue } from '../secrets/provider-keys.js';

/**
 * Credentials of services the platform does not configure; the provider,
 * AWS and Tailscale formats are in ../secrets/provider-keys.ts.
 */
const OTHER_KEY_PREFIXES: [RegExp, string][] = [
  [/^sk_(live|test)_/, 'a Stripe-style secret key'],
  [/^gh[pousr]_[A-Za-z0-9]{20,}/, 'a GitHub token'],
  [/^github_pat_/, 'a GitHub token'],
  [/^xox[abprs]-/, 'a Slack token'],
  [/^glpat-/, 'a GitLab token'],
  [/-----BEGIN [A-Z ]*PRIVATE KEY-----/, 'a private key'],
  [/^eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\./, 'a JSON Web Token'],
];

/**
 * Why the string looks like a secret value, or undefined when it looks like a
 * name. Names are short path-like words (`providers/openai`); keys are long
 * random mixes of upper case, lower case and digits without separators.
 */
export function secretValueReason(value: string): string | undefined {
  const key = keyFormatOfValue(value);
  if (key) return `it looks like ${key.what}`;
  for (const [pattern, what] of OTHER_KEY_PREFIXES) {
    if (pattern.test(value)) return `it looks like ${what}`;
  }
  const segments = value.split('/');
  for (const segment of segments) {
    if (segment.length >= 24 && /[a-z]/.test(segment) && /[A-Z]/.test(segment) && /[0-9]/.test(segment)) {
      return 'it looks like a random token (long mix of upper case, lower case and digits)';
    }
    if (segment.length >= 32 && /^[0-9a-f]+$/i.test(segment)) {
      return 'it looks like a hexadecimal key';
    }
  }
  return undefined;
}

/** Shows only the start of a suspected secret, never all of it. */
export function redact(value: string): string {
  return `${value.slice(0, 4)}… (${value.length} characters)`;
}
