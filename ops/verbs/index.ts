/** Every verb of `npm run ops`. A new verb is one file in ops/verbs/ and one line here. */
import type { Verb } from '../verb.js';
import { doctor } from './doctor.js';
import { restoreVolume } from './restore-volume.js';
import { rotate } from './rotate.js';

export const VERBS: Verb[] = [
  restoreVolume,
  rotate,
  doctor,
];
