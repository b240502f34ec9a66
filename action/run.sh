#!/usr/bin/env bash
# The action's run step (action.yml): `kimi-conformance run` with the action's inputs (KIMI_INPUT_* variables),
# then the step summary, the annotations and the step's outputs from the report it wrote
# (`python -m kimi_conformance.report.github`). Exits with the run's exit code: 0 pass, 1 new findings,
# 2 incomplete, 3 the tool itself failed, 4 usage error (README, *Exit codes*).
# The API key stays in the environment: it is never an argument, never printed, never written.
set -uo pipefail

words() {  # the blank-, comma- or newline-separated words of $1, one per line, without glob expansion
  local -a list
  read -r -d '' -a list < <(tr ',\n' '  ' <<<"$1"; printf '\0') || true
  ((${#list[@]})) && printf '%s\n' "${list[@]}"
  return 0
}

report_dir="${KIMI_INPUT_REPORT_DIR:-reports}"
args=(run --report-dir "$report_dir")
[[ -n "${KIMI_INPUT_TARGET:-}" ]] && args+=(--target "$KIMI_INPUT_TARGET")
if [[ -n "${KIMI_INPUT_API_KEY:-}" ]]; then
  export KIMI_CONFORMANCE_API_KEY="$KIMI_INPUT_API_KEY"
  args+=(--api-key-env KIMI_CONFORMANCE_API_KEY)
elif [[ -n "${KIMI_INPUT_API_KEY_ENV:-}" ]]; then
  args+=(--api-key-env "$KIMI_INPUT_API_KEY_ENV")
fi
unset KIMI_INPUT_API_KEY
while IFS= read -r model; do args+=(--model "$model"); done < <(words "${KIMI_INPUT_MODELS:-}")
while IFS= read -r pair; do args+=(--model-family "$pair"); done < <(words "${KIMI_INPUT_MODEL_FAMILY:-}")
[[ -n "${KIMI_INPUT_PROFILE:-}" ]] && args+=(--profile "$KIMI_INPUT_PROFILE")
[[ -n "${KIMI_INPUT_BASELINE:-}" ]] && args+=(--baseline "$KIMI_INPUT_BASELINE")
read -r -d '' -a extra < <(tr '\n' ' ' <<<"${KIMI_INPUT_ARGS:-}"; printf '\0') || true

latest() {  # the run id `reports/latest` points at (or LATEST names, where there are no symlinks), if any
  readlink "$report_dir/latest" 2>/dev/null || cat "$report_dir/LATEST" 2>/dev/null || true
}
before="$(latest)"
printf 'kimi-conformance'; printf ' %q' "${args[@]}" "${extra[@]}"; printf '\n'
kimi-conformance "${args[@]}" "${extra[@]}"
code=$?
after="$(latest)"

publish=(--exit-code "$code")
[[ -n "$after" && "$after" != "$before" ]] && publish+=(--folder "$report_dir/$after")
python -m kimi_conformance.report.github "${publish[@]}" || echo "::warning::the step summary could not be written"
exit "$code"
