/** Sections of the repository README, for tests that hold its documented sequences to what they run. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './temp-repo.js';

/** The text of `## title` up to the next second-level heading; throws when there is none. */
export function readmeSection(title: string): string {
  const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf(`\n## ${title}\n`);
  if (start < 0) throw new Error(`README.md has no "## ${title}" section`);
  const end = readme.indexOf('\n## ', start + 1);
  return readme.slice(start, end < 0 ? undefined : end);
}

/** Positions of each step in the text (-1 when missing), to assert they all appear in this order. */
export function stepPositions(text: string, steps: readonly string[]): number[] {
  return steps.map((step) => text.indexOf(step));
}
