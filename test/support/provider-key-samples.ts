/**
 * Fake keys of every format in generator/secrets/provider-keys.ts, each in a
 * line of the kind people write, and look-alikes that must pass. The keys
 * are built at run time from pieces, so no file of the repository holds one
 * and the repository's own secret scans stay clean.
 */

const ALNUM = 'Q7mZ2xK9pL4vR8tN3wB6yC1dF5gH0jSaeiouTUVWXYbcfhknqrsz';
const HEX = '0123456789abcdef';
const BASE32 = 'QWERTYUPLKJHGFDSZXCVBNM234567';
const LETTERS = 'QmZxKpLvRtNwByCdFgHjSaeiouTUVWXY';

/** `n` characters of `alphabet`, in a fixed scrambled order (the same every run). */
export function body(n: number, alphabet = ALNUM, seed = 7): string {
  let out = '';
  let state = seed;
  for (let i = 0; i < n; i += 1) {
    state = (state * 1103515245 + 12345) % 2147483648;
    out += alphabet[state % alphabet.length];
  }
  return out;
}

const join = (...parts: string[]) => parts.join('');

export interface KeySample {
  /** The format id the scan must name. */
  format: string;
  /** The key alone. */
  key: string;
  /** A line holding it, as people write it (a comment, an env file, YAML). */
  line: string;
}

export interface LookAlike {
  format: string;
  /** Why a person would think it is a key, and why it is not. */
  why: string;
  line: string;
}

const sample = (format: string, key: string, line: (key: string) => string): KeySample => ({ format, key, line: line(key) });

export const KEY_SAMPLES: readonly KeySample[] = [
  sample('anthropic-api-key', join('sk-', 'ant-', 'api03-', body(93, ALNUM + '_-'), 'AA'), (key) => `# temporary, remove before merging: ANTHROPIC_API_KEY=${key}`),
  sample('anthropic-api-key', join('sk-', 'ant-', 'admin01-', body(93), 'AA'), (key) => `anthropic_admin_key: "${key}"`),
  sample('openai-api-key', join('sk-', 'proj-', body(58, ALNUM, 3), 'T3Blbk', 'FJ', body(58, ALNUM, 5)), (key) => `OPENAI_API_KEY=${key}`),
  sample('openai-api-key', join('sk-', 'svcacct-', body(74, ALNUM, 9), 'T3Blbk', 'FJ', body(74, ALNUM, 11)), (key) => `      # service account: ${key}`),
  sample('openai-api-key', join('sk-', body(20, ALNUM, 13), 'T3Blbk', 'FJ', body(20, ALNUM, 17)), (key) => `openai.api_key = '${key}'`),
  sample('azure-openai-api-key', body(32, HEX, 19), (key) => `AZURE_API_KEY=${key}`),
  sample('azure-openai-api-key', body(32, HEX, 23), (key) => `    api-key: ${key}`),
  sample('mistral-api-key', body(32, ALNUM, 29), (key) => `MISTRAL_API_KEY: ${key}`),
  sample('google-api-key', join('AI', 'za', body(35, ALNUM + '_-', 31)), (key) => `# gemini: ${key}`),
  sample('groq-api-key', join('gsk', '_', body(52, ALNUM, 37)), (key) => `GROQ_API_KEY="${key}"`),
  sample('xai-api-key', join('xai', '-', body(80, ALNUM, 41)), (key) => `# xAI key for grok tests ${key}`),
  sample('cohere-api-key', body(40, ALNUM, 43), (key) => `COHERE_API_KEY=${key}`),
  sample('cohere-api-key', body(40, ALNUM, 47), (key) => `"CO_API_KEY": "${key}"`),
  sample('huggingface-token', join('hf', '_', body(34, LETTERS, 53)), (key) => `HF_TOKEN=${key}`),
  sample('aws-access-key-id', join('AK', 'IA', body(16, BASE32, 59)), (key) => `aws_access_key_id = ${key}`),
  sample('aws-access-key-id', join('AS', 'IA', body(16, BASE32, 61)), (key) => `# temporary credentials ${key}`),
  sample('aws-secret-access-key', body(40, ALNUM + '/+', 67), (key) => `AWS_SECRET_ACCESS_KEY=${key}`),
  sample('tailscale-key', join('tskey', '-auth-', 'k', body(10, ALNUM, 71), 'CNTRL-', body(32, ALNUM, 73)), (key) => `TS_AUTHKEY=${key}`),
  sample('tailscale-key', join('tskey', '-client-', 'k', body(10, ALNUM, 79), 'CNTRL-', body(40, ALNUM, 83)), (key) => `  oauthClientSecret: ${key}`),
];

export const LOOK_ALIKES: readonly LookAlike[] = [
  { format: 'anthropic-api-key', why: 'the prefix in prose, no key body', line: '# Anthropic keys start with sk-ant-api03- and live in Secrets Manager.' },
  { format: 'anthropic-api-key', why: 'a Secrets Manager name', line: '      apiKeySecret: providers/anthropic' },
  { format: 'openai-api-key', why: 'a project key prefix with a short placeholder', line: 'OPENAI_API_KEY=sk-proj-example' },
  { format: 'openai-api-key', why: 'a LiteLLM master key placeholder', line: 'LITELLM_MASTER_KEY: sk-1234' },
  { format: 'azure-openai-api-key', why: 'the Azure endpoint and API version, not the key', line: 'AZURE_API_BASE=https://dubai.openai.azure.com AZURE_API_VERSION=2024-10-21' },
  { format: 'azure-openai-api-key', why: '32 hex characters under a name that is not a key', line: `azure_deployment_hash: ${body(32, HEX, 89)}` },
  { format: 'mistral-api-key', why: 'a LiteLLM reference to an environment variable', line: 'MISTRAL_API_KEY: os.environ/MISTRAL_API_KEY' },
  { format: 'google-api-key', why: 'AIza and too few characters', line: `# key: ${join('AI', 'za', body(20))}` },
  { format: 'groq-api-key', why: 'the prefix in prose', line: '# Groq keys look like gsk_… and are stored as providers/groq' },
  { format: 'xai-api-key', why: 'a model name', line: '  - model: xai/grok-2-latest   # xai-grok-2' },
  { format: 'cohere-api-key', why: 'a LiteLLM reference to an environment variable', line: 'COHERE_API_KEY=os.environ/COHERE_API_KEY' },
  { format: 'cohere-api-key', why: 'a setting whose name holds TOKEN', line: 'TOKENIZERS_PARALLELISM=false' },
  { format: 'huggingface-token', why: 'a Hugging Face setting, not a token', line: 'HF_HUB_ENABLE_HF_TRANSFER=1  # uses hf_transfer' },
  { format: 'aws-access-key-id', why: "AWS's documented example id", line: 'aws_access_key_id = AKIAIOSFODNN7EXAMPLE' },
  { format: 'aws-access-key-id', why: 'AKIA and too few characters', line: "accessKeyId: 'AKIAMOCK'" },
  { format: 'aws-secret-access-key', why: 'a note where the key would be', line: 'AWS_SECRET_ACCESS_KEY=taken from Secrets Manager' },
  { format: 'tailscale-key', why: 'a Secrets Manager name and the prefix in prose', line: 'authKeySecret: tailscale/auth-key   # tskey-auth-… keys are never committed' },
];
