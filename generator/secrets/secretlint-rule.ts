/**
 * The repository's secretlint rule: reports every provider, AWS and Tailscale
 * key of provider-keys.ts anywhere in a file (comments and prose included).
 * Used with secretlint's recommended rules by the pre-commit scan and the
 * `secrets` gate (scripts/secrets-staged.ts); the preset's own AWS and
 * OpenAI rules are left out there, so each key is reported once, by the
 * one definition of its format.
 */
import type { SecretLintRuleCreator } from '@secretlint/types';
import { findKeys } from './provider-keys.js';

export const PROVIDER_KEYS_RULE_ID = 'dubai-hub/provider-keys';

/** The preset's rules that provider-keys.ts replaces. */
export const REPLACED_PRESET_RULES = ['@secretlint/secretlint-rule-aws', '@secretlint/secretlint-rule-openai'] as const;

const messages = {
  FOUND: {
    en: (props?: { what: string; id: string }) => `found ${props?.what ?? 'a key'} (${props?.id ?? 'unknown format'})`,
  },
};

/**
 * The report's message. It names the format and never holds the key; its
 * words are not passed as data, because secretlint masks every data value in
 * the message text (`found **** (****)`).
 */
const found = (what: string, id: string) => ({ message: messages.FOUND.en({ what, id }), messageId: 'FOUND', data: undefined });

export const providerKeysRule: SecretLintRuleCreator = {
  messages,
  meta: {
    id: PROVIDER_KEYS_RULE_ID,
    recommended: true,
    type: 'scanner',
    supportedContentTypes: ['text'],
  },
  create(context) {
    return {
      file(source) {
        for (const match of findKeys(source.content)) {
          context.report({ message: found(match.format.what, match.format.id), range: [match.start, match.end] });
        }
      },
    };
  },
};
