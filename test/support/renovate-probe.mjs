// Runs Renovate's own code (from the pinned install in .tools/renovate, under
// its Node 24) for test/renovate.test.ts: the custom regex manager's
// extractPackageFile over files, and Renovate's template compiler for
// autoReplaceStringTemplate. Reads a JSON request on stdin, writes JSON.
// Usage: <node 24> renovate-probe.mjs <.tools/renovate> < request.json
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const dist = join(process.argv[2], 'node_modules', 'renovate', 'dist');
const load = (path) => import(pathToFileURL(join(dist, path)).href);
const regex = await load('modules/manager/custom/regex/index.js');
const template = await load('util/template/index.js');

const request = JSON.parse(readFileSync(0, 'utf8'));
const extract = request.extract.map(({ manager, file, root }) => {
  const result = regex.extractPackageFile(readFileSync(join(root, file), 'utf8'), file, request.managers[manager]);
  return { manager, file, deps: result?.deps ?? [] };
});
const compiled = request.compile.map(({ template: text, data }) => template.compile(text, data, false));
process.stdout.write(JSON.stringify({ extract, compile: compiled }));
