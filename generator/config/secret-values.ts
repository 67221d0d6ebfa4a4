/**
 * Recognises strings that look like secret values rather than names, so an
 * API key pasted into an environment file is refused before it reaches git.
 */

const KNOWN_KEY_PREFIXES: [RegExp, string][] = [
  [/^sk-/, 'an OpenAI/Anthropic-style API key (sk-...)'],
  [/^sk_(live|test)_/, 'a Stripe-style secret key'],
  [/^(AKIA|ASIA)[0-9A-Z]{12,}/, 'an AWS access key id'],
  [/^gh[pousr]_[A-Za-z0-9]{20,}/, 'a GitHub token'],
  [/^github_pat_/, 'a GitHub token'],
  [/^xox[abprs]-/, 'a Slack token'],
  [/^AIza[0-9A-Za-z_-]{20,}/, 'a Google API key'],
  [/^tskey-/, 'a Tailscale key'],
  [/^hf_[A-Za-z0-9]{20,}/, 'a Hugging Face token'],
  [/^gsk_[A-Za-z0-9]{20,}/, 'a Groq API key'],
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
  for (const [pattern, what] of KNOWN_KEY_PREFIXES) {
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
