/** Every verb of `npm run ops`. A new verb is one file in ops/verbs/ and one line here. */
import type { Verb } from '../verb.js';
import { upgradeK3s } from './upgrade-k3s.js';

export const VERBS: Verb[] = [upgradeK3s];
