/**
 * What each hand-set secret must look like, so a wrong paste is caught before
 * it reaches Secrets Manager. Messages never include the value.
 */
import { MANUAL_SECRETS } from '../../generator/platform-names.js';
import { BootstrapError } from './errors.js';

export function checkSecretValue(reference: string, value: string): void {
  if (value.trim() === '') throw new BootstrapError(`the value for ${reference} is empty; nothing was stored`);
  if (/\s/.test(value.trim()) && reference !== MANUAL_SECRETS.tailscaleOAuth) {
    throw new BootstrapError(`the value for ${reference} contains whitespace; nothing was stored`, 'paste the key alone, without spaces or line breaks');
  }
  if (reference === MANUAL_SECRETS.tailscaleAuthKey && !value.startsWith('tskey-auth-')) {
    throw new BootstrapError(`${reference} must be a Tailscale auth key (it starts with tskey-auth-); nothing was stored`, 'create a tagged, pre-approved auth key in the Tailscale admin console (Settings → Keys)');
  }
  if (reference === MANUAL_SECRETS.alertmanagerWebhook && !/^https:\/\/[^\s/]+\/\S*$/.test(value)) {
    throw new BootstrapError(`${reference} must be an https:// webhook URL; nothing was stored`, 'paste the incoming-webhook URL of the channel alerts go to (e.g. Slack: Apps → Incoming WebHooks)');
  }
  if (reference === MANUAL_SECRETS.tailscaleOAuth) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(value);
    } catch {
      throw new BootstrapError(`${reference} must be JSON {"client_id": …, "client_secret": …}; nothing was stored`);
    }
    const object = parsed as Record<string, unknown>;
    if (typeof object['client_id'] !== 'string' || object['client_id'] === '' || typeof object['client_secret'] !== 'string' || !object['client_secret'].startsWith('tskey-client-')) {
      throw new BootstrapError(`${reference} needs a non-empty client_id and a client_secret starting with tskey-client-; nothing was stored`, 'create an OAuth client in the Tailscale admin console (Settings → OAuth clients) with the Devices Core and Auth Keys write scopes');
    }
  }
}
