#!/usr/bin/env bash
# The action's `drift` and `diff` jobs. Inputs come as environment variables (never
# interpolated into this script): COMMAND, TETHER (bin/tether.js), REPO, REF, BASE, APP_PATH,
# APP, CONFIG, NAMESPACE, KUBECONFIG_FILE, JUNIT, COMMENT, ACTION_PATH, GITHUB_TOKEN.
set -uo pipefail
args=()
[ -n "${REPO:-}" ] && args+=(--repo "$REPO")
[ -n "${REF:-}" ] && args+=(--ref "$REF")
[ -n "${APP_PATH:-}" ] && args+=(--path "$APP_PATH")
[ -n "${CONFIG:-}" ] && args+=(--config "$CONFIG")
[ -n "${APP:-}" ] && args+=(--app "$APP")
[ -n "${NAMESPACE:-}" ] && args+=(-n "$NAMESPACE")
[ -n "${KUBECONFIG_FILE:-}" ] && args+=(--kubeconfig "$KUBECONFIG_FILE")

case "${COMMAND:-}" in
  drift)
    # JUnit on stdout; the job summary and the ::warning annotations at file:line come from
    # tether itself (GITHUB_ACTIONS=true). Exit 1 on drift fails the job.
    junit="${JUNIT:-tether-drift.xml}"
    mkdir -p "$(dirname "$junit")" || exit 2
    node "$TETHER" drift "${args[@]}" -o junit > "$junit"
    code=$?
    {
      echo "junit=$junit"
      echo "exit-code=$code"
      echo "drift=$([ "$code" = 1 ] && echo true || echo false)"
    } >> "$GITHUB_OUTPUT"
    exit "$code"
    ;;
  diff)
    [ -n "${BASE:-}" ] && args+=(--base "$BASE")
    md="${RUNNER_TEMP:-/tmp}/tether-diff-$$.md"
    node "$TETHER" diff "${args[@]}" -o markdown > "$md"
    code=$?
    {
      echo "markdown=$md"
      echo "exit-code=$code"
      echo "changes=$([ "$code" = 1 ] && echo true || echo false)"
    } >> "$GITHUB_OUTPUT"
    # 0 no changes, 1 changes: both are a successful job; 2 is an error.
    [ "$code" -ge 2 ] && exit "$code"
    cat "$md" >> "${GITHUB_STEP_SUMMARY:-/dev/null}"
    if [ "${COMMENT:-true}" = true ]; then
      node "$ACTION_PATH/action/pr-comment.js" "$md" "${APP:-${APP_PATH:-${CONFIG:-default}}}" || exit 2
    fi
    exit 0
    ;;
  *)
    echo "::error title=tether::input command must be drift or diff, not '${COMMAND:-}'"
    exit 2
    ;;
esac
