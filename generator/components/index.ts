/** Every component, in the order their folders are listed. */
import { ADDONS } from '../addons/index.js';
import type { Component } from './component.js';
import { database } from './database.js';
import { litellm } from './litellm.js';
import { openWebUI } from './open-webui.js';
import { redis } from './redis.js';

/** Platform add-ons first, then the workloads. */
export const COMPONENTS: readonly Component[] = [...ADDONS, database, redis, litellm, openWebUI];
