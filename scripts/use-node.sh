# Sourced by .ci/run: run CI on the Node release the project documents
# (.nvmrc, the same file the workflows read), whatever Node the machine has.
# The binary comes from the npm registry package node-linux-<arch> and is kept
# per user and version outside the clone, so a warm machine reuses it.
# shellcheck shell=bash
use_documented_node() {
  local root want have arch dir tarball
  root=$(git rev-parse --show-toplevel)
  want=$(tr -d '[:space:]v' < "$root/.nvmrc")
  have=$(node --version 2>/dev/null | tr -d v || true)
  if [[ "$have" == "$want" ]]; then
    echo "node $have (the documented version) is on PATH"
    return 0
  fi
  case "$(uname -m)" in
    x86_64) arch=x64 ;;
    aarch64 | arm64) arch=arm64 ;;
    *) echo "use-node: no node-linux package for $(uname -m); install Node $want yourself" >&2; return 1 ;;
  esac
  dir="${XDG_CACHE_HOME:-$HOME/.cache}/dubai-hub-tools/node/$want-linux-$arch"
  if [[ ! -x "$dir/bin/node" ]]; then
    echo "installing Node $want (node-linux-$arch from the npm registry, ~50 MB, once per machine) into $dir"
    tarball=$(mktemp -d)
    (cd "$tarball" && npm pack --silent "node-linux-$arch@$want" >/dev/null)
    mkdir -p "$dir.partial"
    tar -xzf "$tarball"/node-linux-"$arch"-"$want".tgz -C "$dir.partial" --strip-components=1
    rm -rf "$tarball" "$dir"
    mv "$dir.partial" "$dir"
  fi
  export PATH="$dir/bin:$PATH"
  echo "node $(node --version) from $dir (the machine has ${have:-no node})"
}
