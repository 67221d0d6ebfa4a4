/** Every dashboard the repository provisions into Grafana. */
import type { Dashboard } from './builder.js';
import { HUB_DASHBOARD } from './hub.js';
import { PLATFORM_DASHBOARD } from './platform.js';

export const DASHBOARDS: readonly Dashboard[] = [HUB_DASHBOARD, PLATFORM_DASHBOARD];
