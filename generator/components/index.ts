/** Every component, in the order their folders are listed. */
import type { Component } from './component.js';
import { database } from './database.js';
import { litellm } from './litellm.js';
import { openWebUI } from './open-webui.js';
import { redis } from './redis.js';

export const COMPONENTS: readonly Component[] = [database, redis, litellm, openWebUI];
