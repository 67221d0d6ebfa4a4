#!/usr/bin/env bash
# npm run tools:install
# Installs the pinned Python tools of bootstrap/tools/requirements.txt
# (cfn-lint, checkov, moto_server) into the git-ignored
# .tools/venv (or $DUBAI_HUB_VENV: `npm run tools` installs it into the per-user
# tool cache that way). Does nothing when that venv already matches the requirements.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
requirements="$root/bootstrap/tools/requirements.txt"
venv="${DUBAI_HUB_VENV:-$root/.tools/venv}"
stamp="$venv/.requirements.sha256"
python="${PYTHON:-python3}"

if ! command -v "$python" >/dev/null 2>&1; then
  echo "tools:install: $python not found. Install Python 3.9 or later with venv (Debian: apt-get install python3 python3-venv), or set PYTHON=/path/to/python3." >&2
  exit 1
fi

# Tests may ask for the tools from several workers at once: one installs, the others wait.
mkdir -p "$root/.tools"
exec 9>"$root/.tools/venv.lock"
flock 9

want="$(sha256sum "$requirements" | cut -d' ' -f1)"
if [[ -x $venv/bin/python && -f $stamp && "$(cat "$stamp")" == "$want" ]]; then
  echo "tools:install: .tools/venv is up to date"
  exit 0
fi

echo "tools:install: installing $(grep -cE '^[a-z]' "$requirements") Python tools into .tools/venv (first time takes a minute or two)"
if ! "$python" -m venv "$venv"; then
  echo "tools:install: '$python -m venv' failed. On Debian or Ubuntu: apt-get install python3-venv" >&2
  exit 1
fi
"$venv/bin/python" -m pip install --disable-pip-version-check --quiet --requirement "$requirements"
printf '%s\n' "$want" >"$stamp"
for tool in cfn-lint checkov moto_server; do
  [[ -x $venv/bin/$tool ]] || { echo "tools:install: $tool is missing after the install" >&2; exit 1; }
done
echo "tools:install: done ($("$venv/bin/cfn-lint" --version), checkov $("$venv/bin/checkov" --version))"
