/**
 * Argo CD sync waves inside an Application: secrets and ServiceAccounts first
 * (ExternalSecrets turn healthy once their Secret exists), then one-off Jobs (database set-up and
 * migrations), then the workloads that need both.
 */
import { SYNC_WAVE_ANNOTATION } from '../argocd/application.js';

export const SYNC_WAVE = {
  namespace: -10,
  secrets: -5,
  databaseSetup: -3,
  migrations: -2,
  workloads: 0,
} as const;

export function syncWave(wave: number): Record<string, string> {
  return { [SYNC_WAVE_ANNOTATION]: String(wave) };
}

/** Keeps data when Argo CD prunes or an Application is deleted. */
export const DATA_SAFETY_ANNOTATIONS: Record<string, string> = {
  'argocd.argoproj.io/sync-options': 'Prune=false,Delete=false',
};
