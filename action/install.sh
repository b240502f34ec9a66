#!/usr/bin/env bash
# The action's install step (action.yml): kimi-conformance from the action's own checkout, into the Python that
# setup-python put first on PATH. A Python that already has this very checkout installed (editable, as in the
# project's own CI with `uses: ./`) keeps it.
set -euo pipefail

action_path="$(cd "${GITHUB_ACTION_PATH:?is not set}" && pwd -P)"
installed="$(python -c 'import kimi_conformance, pathlib; print(pathlib.Path(kimi_conformance.__file__).resolve().parent)' 2>/dev/null || true)"
if [[ "$installed" == "$action_path/src/kimi_conformance" ]]; then
  echo "kimi-conformance: installed from this checkout already ($action_path)"
else
  python -m pip install --disable-pip-version-check --quiet "$action_path"
fi
kimi-conformance --version
