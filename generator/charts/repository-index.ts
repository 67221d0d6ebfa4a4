/**
 * The digest a chart repository publishes for one chart version: the
 * `entries.<chart>[i].digest` of its index.yaml (the sha256 of the archive,
 * written by `helm repo index`). `npm run charts:pull` refuses an archive whose
 * sha256 differs from it.
 */
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, type Node } from 'yaml';
import type { ConfigIssue } from '../config/errors.js';
import { compareVersions } from './lock-update.js';

export interface IndexDigest {
  digest: string;
  /** Field path of the digest, e.g. `entries.argo-cd[3].digest`. */
  path: string;
  /** Where the digest is, for error messages. */
  line?: number;
  column?: number;
  /** The first of the entry's `urls` (absolute, or relative to the repository). */
  url?: string;
}

const SHA256 = /^[a-f0-9]{64}$/;

/** Looks up `chart` `version` in the text of an index.yaml shown as `file`; an issue when it is not there or has no usable digest. */
export function indexDigest(text: string, file: string, chart: string, version: string): IndexDigest | ConfigIssue {
  const counter = new LineCounter();
  const document = parseDocument(text, { lineCounter: counter });
  if (document.errors.length > 0) {
    const [error] = document.errors;
    return { file, path: '', line: error!.linePos?.[0].line, column: error!.linePos?.[0].col, problem: `not a readable chart repository index: ${error!.message}` };
  }
  const position = (node: Node | null | undefined) => (node?.range ? counter.linePos(node.range[0]) : undefined);
  const versions = document.getIn(['entries', chart], true);
  if (!isSeq(versions)) {
    return {
      file,
      path: `entries.${chart}`,
      problem: `the repository has no chart named ${chart}`,
      fix: 'check the chart name and the repository URL (addons.<addon>.chart and .repoURL in environments/<env>.yaml, or --repository)',
    };
  }
  const published: string[] = [];
  for (const [index, item] of versions.items.entries()) {
    if (!isMap(item)) continue;
    const itemVersion = item.get('version');
    published.push(String(itemVersion));
    if (String(itemVersion) !== version) continue;
    const node = item.get('digest', true);
    const where = position((node ?? item) as Node);
    const path = `entries.${chart}[${index}].digest`;
    const digest = isScalar(node) ? String(node.value) : undefined;
    if (digest === undefined || !SHA256.test(digest)) {
      return {
        file,
        path,
        line: where?.line,
        column: where?.col,
        problem: digest === undefined ? `${chart} ${version} has no digest, so the archive cannot be verified` : `"${digest}" is not a sha256 digest`,
        expected: 'the sha256 of the archive (64 lower-case hex digits), as `helm repo index` writes it',
        fix: 'ask the repository maintainers to publish the digest; vendor the archive only from a repository that does',
      };
    }
    const listed = item.get('urls', true);
    const urls = isAlias(listed) ? listed.resolve(document) : listed;
    const url = isSeq(urls) && urls.items.length > 0 ? String(isScalar(urls.items[0]) ? urls.items[0].value : urls.items[0]) : undefined;
    return { digest, path, line: where?.line, column: where?.col, ...(url ? { url } : {}) };
  }
  const newest = published.sort(compareVersions).reverse().slice(0, 5);
  return {
    file,
    path: `entries.${chart}`,
    problem: `the repository publishes no ${chart} ${version}`,
    expected: newest.length > 0 ? `one of its versions, newest first: ${newest.join(', ')}` : 'a published version',
    fix: 'pin a published version (addons.<addon>.version in environments/<env>.yaml and generator/config/schema.ts)',
  };
}
