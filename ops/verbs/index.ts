/** Every verb of `npm run ops`. A new verb is one file in ops/verbs/ and one line here. */
import type { Verb } from '../verb.js';
import { doctor } from './doctor.js';
import { restoreVolume } from './restore-volume.js';
import { rotate } from './rotate.js';
import { recoverNode } from './recover-node.js';
import { recoverCluster } from './recover-cluster.js';
import { recreateStack } from './recreate-stack.js';
import { upgradeK3s } from './upgrade-k3s.js';
import { restoreDatabase } from './restore-database.js';

export const VERBS: Verb[] = [
  restoreVolume,
  rotate,
  doctor,
  recoverNode,
  recoverCluster,
  recreateStack,
  upgradeK3s,
  restoreDatabase,
];
