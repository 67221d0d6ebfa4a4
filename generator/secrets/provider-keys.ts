/**
 * The key formats of the providers LiteLLM users configure, and of the AWS
 * and Tailscale credentials the platform itself holds: one definition per
 * format, used by every place that looks for secrets.
 *
 * - `find` locates a key in any text (whole files, comments included): the
 *   repository's secretlint rule (secretlint-rule.ts) reports every match,
 *   so the pre-commit hook, the `secrets` gate and CI catch it.
 * - `startsWith`, where a format has a distinctive start, judges a value
 *   that must be a name (a Secrets Manager reference): even a truncated key
 *   is refused there (generator/config/secret-values.ts).
 *
 * Formats without a prefix (Azure OpenAI, Mistral, Cohere, the AWS secret
 * access key) are found only in a key-like context: an assignment whose name
 * mentions the provider and a key, `NAME=value`, `name: value`, `"name": "value"`.
 * Sources of the formats: the providers' documentation and the public rule
 * sets of gitleaks and secretlint (facts only).
 */

export interface KeyFormat {
  /** Stable id, shown with every finding. */
  id: string;
  /** What it is, for people: "an Anthropic API key". */
  what: string;
  /** Finds keys in text; global. The key is the named group `key`, or the whole match. */
  find: RegExp;
  /** For key-like contexts: the assignment's name must match (group `name`). */
  name?: RegExp;
  /** Documented example values that are not secrets. */
  allow?: RegExp;
  /** The start of every such key, for values that must be names. */
  startsWith?: RegExp;
}

/** Neither a key character before nor after: the key is the whole token. */
const token = (body: string, extra = '') => new RegExp(`(?<![A-Za-z0-9_-])(?:${body})(?![A-Za-z0-9_-])`, `g${extra}`);

/** `NAME=value`, `name: value`, `"name": "value"` on one line, with the value of the given shape. */
const assignment = (value: string) =>
  new RegExp(`(?<name>[A-Za-z_][A-Za-z0-9_.-]*)["']?[ \\t]*[:=][ \\t]*["']?(?<key>${value})(?![A-Za-z0-9_+/=-])`, 'g');

/** A name that mentions the provider and a key (`MISTRAL_API_KEY`, `azure_openai_key`, `cohere-token`). */
const keyNameOf = (provider: string) => new RegExp(`^(?=.*(?:${provider}))(?=.*(?:key|token|secret)).*$`, 'i');

export const KEY_FORMATS: readonly KeyFormat[] = [
  {
    id: 'anthropic-api-key',
    what: 'an Anthropic API key',
    // sk-ant-api03-… (and admin01-): 93 key characters then AA; the length is kept loose.
    find: token('sk-ant-(?:api|admin)\\d{2}-[A-Za-z0-9_-]{80,}'),
    startsWith: /^sk-ant-/,
  },
  {
    id: 'openai-api-key',
    what: 'an OpenAI API key',
    // Project, service-account and admin keys; legacy user keys carry T3BlbkFJ ("OpenAI" in base64) in the middle.
    find: token('sk-(?:proj|svcacct|admin)-[A-Za-z0-9_-]{40,}|sk-[A-Za-z0-9]{20}T3BlbkFJ[A-Za-z0-9]{20}'),
    startsWith: /^sk-/,
  },
  {
    id: 'azure-openai-api-key',
    what: 'an Azure OpenAI API key',
    // 32 hexadecimal characters; found where an Azure key (or the `api-key` header) is assigned.
    find: assignment('[0-9a-fA-F]{32}'),
    name: /^(?:api-key|(?=.*azure)(?=.*(?:key|token|secret)).*)$/i,
  },
  {
    id: 'mistral-api-key',
    what: 'a Mistral API key',
    find: assignment('[A-Za-z0-9]{32}'),
    name: keyNameOf('mistral'),
  },
  {
    id: 'google-api-key',
    what: 'a Google (Gemini / AI Studio) API key',
    // AIza then 35 characters: 39 in all.
    find: token('AIza[0-9A-Za-z_-]{35}'),
    startsWith: /^AIza[0-9A-Za-z_-]{20,}/,
  },
  {
    id: 'groq-api-key',
    what: 'a Groq API key',
    find: token('gsk_[A-Za-z0-9]{52}'),
    startsWith: /^gsk_[A-Za-z0-9]{20,}/,
  },
  {
    id: 'xai-api-key',
    what: 'an xAI API key',
    find: token('xai-[A-Za-z0-9]{80}'),
    startsWith: /^xai-[A-Za-z0-9]{20,}/,
  },
  {
    id: 'cohere-api-key',
    what: 'a Cohere API key',
    find: assignment('[A-Za-z0-9]{40}'),
    name: /^(?:co_api_key|(?=.*cohere)(?=.*(?:key|token|secret)).*)$/i,
  },
  {
    id: 'huggingface-token',
    what: 'a Hugging Face token',
    // hf_ (user tokens) or api_org_ (organisation tokens) then 34 characters.
    find: token('(?:hf_|api_org_)[A-Za-z0-9]{34}'),
    startsWith: /^hf_[A-Za-z0-9]{20,}/,
  },
  {
    id: 'aws-access-key-id',
    what: 'an AWS access key id',
    // AKIA (long-term) or ASIA (temporary) then 16 base-32 characters; AWS's documentation uses …EXAMPLE.
    find: token('(?:AKIA|ASIA)[A-Z2-7]{16}'),
    allow: /EXAMPLE$/,
    startsWith: /^(?:AKIA|ASIA)[0-9A-Z]{12,}/,
  },
  {
    id: 'aws-secret-access-key',
    what: 'an AWS secret access key',
    find: assignment('[A-Za-z0-9/+]{40}'),
    name: /^(?=.*aws|.*secret_?access)(?=.*secret).*$/i,
    allow: /EXAMPLEKEY$/,
  },
  {
    id: 'tailscale-key',
    what: 'a Tailscale key',
    // tskey-<kind>-<key id>-<secret>: auth keys, API access tokens, OAuth clients, webhooks, SCIM.
    find: token('tskey-(?:auth|api|client|webhook|scim)-[A-Za-z0-9]{6,}-[A-Za-z0-9]{16,}'),
    startsWith: /^tskey-/,
  },
];

export interface KeyMatch {
  format: KeyFormat;
  /** Offsets of the key itself in the text. */
  start: number;
  end: number;
}

/** Every key in a text, in order of position. */
export function findKeys(text: string): KeyMatch[] {
  const matches: KeyMatch[] = [];
  for (const format of KEY_FORMATS) {
    for (const match of text.matchAll(format.find)) {
      const key = match.groups?.['key'] ?? match[0];
      const name = match.groups?.['name'];
      if (format.name && (name === undefined || !format.name.test(name))) continue;
      if (format.allow?.test(key)) continue;
      const start = match.index + match[0].length - key.length;
      matches.push({ format, start, end: start + key.length });
    }
  }
  return matches.sort((a, b) => a.start - b.start);
}

/** The format of a key that a value which must be a name starts like, or holds; undefined for a name. */
export function keyFormatOfValue(value: string): KeyFormat | undefined {
  return KEY_FORMATS.find((format) => format.startsWith?.test(value)) ?? findKeys(value)[0]?.format;
}
