/** Loading an environment in a test and getting its problems instead of an exception. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, type ConfigIssue } from '../../generator/config/errors.js';
import { loadEnvironment } from '../../generator/config/load-environment.js';
import { FIXTURES, tempRepo, type TempRepo } from './temp-repo.js';

export const MINIMAL_CONFIG = readFileSync(join(FIXTURES, 'valid', 'minimal.yaml'), 'utf8');
export const MINIMAL_OUTPUTS = readFileSync(join(FIXTURES, 'valid', 'fixture.outputs.yaml'), 'utf8');

/** The problems loadEnvironment reports for `name` under `root`; [] when it loads. */
export function loadIssues(root: string, name: string): ConfigIssue[] {
  try {
    loadEnvironment(root, name);
    return [];
  } catch (error) {
    if (error instanceof ConfigError) return error.issues;
    throw error;
  }
}

/** A temporary repository holding environment "fixture": the minimal config (or `config`) and valid outputs. */
export function fixtureRepo(config = MINIMAL_CONFIG): TempRepo {
  const repo = tempRepo();
  repo.write('environments/fixture.yaml', config);
  repo.write('environments/fixture.outputs.yaml', MINIMAL_OUTPUTS);
  return repo;
}
