/** Every platform add-on folder, in the order their Applications sync. */
import type { AddOn } from './addon.js';
import { argocd } from './argocd.js';
import { acmeIssuer, certManager } from './cert-manager.js';
import { externalSecrets } from './external-secrets.js';
import { grafana } from './grafana.js';
import { logging } from './logging.js';
import { longhorn } from './longhorn.js';
import { longhornBackups } from './longhorn-backups.js';
import { monitoring } from './monitoring.js';
import { secretStore } from './secret-store.js';
import { tailscale } from './tailscale.js';
import { tailscaleProxies } from './tailscale-proxies.js';
import { systemUpgrade } from './system-upgrade.js';
import { k3sUpgradePlansAddOn } from './k3s-upgrade-plans.js';
import { access } from './access.js';
import { reloader } from './reloader.js';

export const ADDONS: readonly AddOn[] = [externalSecrets, longhorn, certManager, secretStore, longhornBackups, acmeIssuer, tailscale, tailscaleProxies, argocd, monitoring, systemUpgrade, k3sUpgradePlansAddOn, access, grafana, logging, reloader];
