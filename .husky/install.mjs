// Installs the git hooks on `npm ci`/`npm install`, and does nothing where
// there is no git repository (a tarball, a Docker build) or in CI.
import { existsSync } from 'node:fs';

if (process.env.CI === 'true' || process.env.HUSKY === '0' || !existsSync('.git')) {
  process.exit(0);
}
const husky = (await import('husky')).default;
const message = husky();
if (message) console.log(message);
