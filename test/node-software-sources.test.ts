/**
 * Where the node's software comes from (docs/node-software.md): the rule that
 * every render runs over bootstrap/node/user-data.sh refuses a download piped
 * into a shell, an apt source without signed-by, apt-key and an unpinned
 * Tailscale; and the committed user data of every node of every environment
 * installs Tailscale from its signed repository, with the pinned key and the
 * configured version.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { userDataOf } from '../bootstrap/tools/lint-templates.js';
import { formatSoftwareSourceIssues, softwareSourceIssues } from '../bootstrap/template/user-data-sources.js';
import { renderUserData, TAILSCALE_REPOSITORY, userDataSourcePath, UserDataError } from '../bootstrap/template/user-data.js';
import { ENVIRONMENTS, environment, ROOT } from './support/environments.js';

/** Tailscale Inc.'s package repository signing key, as recorded in the independent sources docs/node-software.md lists. */
const TAILSCALE_SIGNING_KEY = '2596A99EAAB33821893C0A79458CA832957F5868';

const issuesOf = (...lines: string[]) => softwareSourceIssues(['#!/bin/bash', ...lines].join('\n')).map((issue) => `${issue.line}:${issue.column} ${issue.path}`);

describe('the software-source rule over the node script', () => {
  it('passes the real bootstrap/node/user-data.sh', () => {
    expect(formatSoftwareSourceIssues(softwareSourceIssues(readFileSync(userDataSourcePath(), 'utf8')))).toBe('');
  });

  it.each([
    ["retry 5 sh -c 'curl -fsSL https://tailscale.com/install.sh | sh'", '2:60 pipe-to-shell'],
    ['curl -fsSL https://example.test/install | bash -s -- --yes', '2:41 pipe-to-shell'],
    ['curl -fsSL https://example.test/install | sudo bash', '2:41 pipe-to-shell'],
    ['wget -qO- https://example.test/key | sudo tee /etc/apt/trusted.gpg.d/x.gpg', '2:36 pipe-to-shell'],
    ['bash <(curl -fsSL https://example.test/install)', '2:1 pipe-to-shell'],
    ['eval "$(curl -fsSL https://example.test/env)"', '2:1 pipe-to-shell'],
    ["echo 'deb https://pkgs.tailscale.com/stable/ubuntu noble main' >/etc/apt/sources.list.d/tailscale.list", '2:7 apt-source-signed-by'],
    ['curl -fsSL https://example.test/key | apt-key add -', '2:39 apt-key'],
    ['retry 5 apt-get install -y -q tailscale', '2:31 tailscale-version'],
    ['apt-get install -y "tailscale=" jq', '2:21 tailscale-version'],
  ])('refuses %s', (line, expected) => {
    expect(issuesOf(line)).toEqual([expected]);
  });

  it.each([
    'printf \'%s  %s\\n\' "$SHA" "$f" | sha256sum --check --status',
    'k3s kubectl create namespace argocd --dry-run=client -o yaml | k3s kubectl apply -f -',
    'tailscale status --json | jq -e \'.BackendState == "Running"\'',
    'retry 5 apt-get install -y -q --allow-downgrades "tailscale=$TAILSCALE_VERSION"',
    "printf 'deb [signed-by=%s] %s/%s main\\n' \"$k\" \"$R\" \"$os\" >/etc/apt/sources.list.d/tailscale.list",
    '# a comment may say curl … | sh',
    'INSTALL_K3S_VERSION="$K3S_VERSION" sh "$installer"',
  ])('accepts %s', (line) => {
    expect(issuesOf(line)).toEqual([]);
  });

  it('makes the render refuse a script that pipes a download into a shell, with file, line, column and the fix', () => {
    const source = readFileSync(userDataSourcePath(), 'utf8').replace('systemctl enable --now tailscaled', "curl -fsSL https://tailscale.com/install.sh | sh\n  systemctl enable --now tailscaled");
    const line = source.split('\n').findIndex((text) => text.includes('install.sh | sh')) + 1;
    expect(() => renderUserData(environment('dev').config, source)).toThrow(UserDataError);
    expect(() => renderUserData(environment('dev').config, source)).toThrow(
      new RegExp(`bootstrap/node/user-data\\.sh:${line}:47: pipe-to-shell: runs downloaded code without checking it[^\\n]*install\\.sh \\| sh\\n  fix: install from a signed package repository`),
    );
  });
});

describe('the committed user data of every node', () => {
  const nodes = ENVIRONMENTS.flatMap((name) => userDataOf(`rendered/${name}/bootstrap/template.yaml`, readFileSync(join(ROOT, 'rendered', name, 'bootstrap', 'template.yaml'), 'utf8')).map((script) => ({ env: name, ...script })));

  it('covers every environment, servers and agents', () => {
    expect(new Set(nodes.map((node) => node.env))).toEqual(new Set(ENVIRONMENTS));
    expect(nodes.some((node) => node.name.endsWith('#AgentLaunchTemplate'))).toBe(true);
  });

  it('pins the Tailscale signing key', () => {
    expect(TAILSCALE_REPOSITORY.keyFingerprint.replaceAll(' ', '')).toBe(TAILSCALE_SIGNING_KEY);
    expect(TAILSCALE_REPOSITORY.url).toBe('https://pkgs.tailscale.com/stable');
  });

  it.each(nodes.map((node) => [node.name, node] as const))('%s: no pipe into a shell, a signed-by source, the pinned key and version', (_name, node) => {
    expect(formatSoftwareSourceIssues(softwareSourceIssues(node.text))).toBe('');
    expect(node.text).not.toMatch(/\|\s*(?:sudo|(?:ba)?sh)\b(?![\w.-])/);
    expect(node.text).toContain(`TAILSCALE_KEY_FINGERPRINT='${TAILSCALE_REPOSITORY.keyFingerprint}'`);
    expect(node.text).toContain(`TAILSCALE_VERSION='${environment(node.env).config.node.tailscale.version}'`);
    expect(node.text).toMatch(/^printf 'deb \[signed-by=%s\] %s\/%s main\\n' "\$k" "\$TAILSCALE_REPO" "\$os" >\/etc\/apt\/sources\.list\.d\/tailscale\.list$/m);
    expect(node.text).toMatch(/^retry 5 apt-get install -y -q --allow-downgrades "tailscale=\$TAILSCALE_VERSION"$/m);
    // The key is checked before it becomes the keyring, and the source is added only after that.
    const fn = /^tailscale_source\(\) \(\n[\s\S]*?\n\)$/m.exec(node.text)?.[0] ?? '';
    expect(fn.indexOf('tailscale_key "$k.new"')).toBeGreaterThan(0);
    expect(fn.indexOf('tailscale_key "$k.new"')).toBeLessThan(fn.indexOf('mv "$k.new" "$k"'));
    expect(fn.indexOf('mv "$k.new" "$k"')).toBeLessThan(fn.indexOf('sources.list.d'));
  });
});
