#!/usr/bin/env bash
# The action's main step (see ../action.yml): run one authform command, keep what it printed for
# the log, the job summary and the pull-request comment, and record its exit code as an output.
# It always exits 0, so that the comment step still runs and can report a failed plan (a stale
# "No changes" comment after a broken push would mislead the reviewer); outcome.sh then fails
# the step by what the exit code means for the command.
set -uo pipefail

: "${RUNNER_TEMP:?}" "${GITHUB_OUTPUT:?}" "${COMMAND:?}"
out="$RUNNER_TEMP/authform-stdout.txt"
err="$RUNNER_TEMP/authform-stderr.txt"
report="$RUNNER_TEMP/authform-report.md"
manifest="${MANIFEST_PATH:-manifests}"
: >"$out"
: >"$err"

common=()
if [ -n "${ENVIRONMENT:-}" ]; then common+=(--environment "$ENVIRONMENT"); fi
remote=("${common[@]}")
if [ "${EMULATE:-false}" = true ]; then remote+=(--emulate); fi
read -r -a extra <<<"${EXTRA_ARGS:-}"

code=0
markdown=false
plan_file=""
case "$COMMAND" in
  validate)
    authform validate "$manifest" "${common[@]}" "${extra[@]}" >"$out" 2>"$err" || code=$?
    ;;
  plan)
    plan_file="${PLAN_FILE:-authform-plan.json}"
    authform plan "$manifest" --format markdown --detailed-exitcode --out "$plan_file" \
      "${remote[@]}" "${extra[@]}" >"$out" 2>"$err" || code=$?
    markdown=true
    ;;
  apply)
    target="$manifest"
    if [ -n "${PLAN_FILE:-}" ]; then
      # Given a saved plan, apply exactly that or nothing: never fall back to the manifest.
      target="$PLAN_FILE"
      if [ ! -f "$PLAN_FILE" ]; then
        echo "Error: the saved plan $PLAN_FILE does not exist; nothing was applied." >"$err"
        code=1
      fi
    fi
    if [ "$code" = 0 ]; then
      authform apply "$target" --auto-approve "${remote[@]}" "${extra[@]}" >"$out" 2>"$err" ||
        code=$?
    fi
    ;;
  verify)
    junit=()
    if [ -n "${JUNIT_FILE:-}" ]; then junit=(--junit "$JUNIT_FILE"); fi
    authform verify "$manifest" "${junit[@]}" "${remote[@]}" "${extra[@]}" >"$out" 2>"$err" ||
      code=$?
    ;;
  drift)
    authform drift "$manifest" --format markdown "${remote[@]}" "${extra[@]}" >"$out" 2>"$err" ||
      code=$?
    markdown=true
    ;;
  *)
    echo "Error: unknown command '$COMMAND' (expected validate, plan, apply, verify or drift)." >"$err"
    code=1
    ;;
esac

# The log shows everything; the runner turns the ::error lines into annotations.
cat "$out"
cat "$err" >&2

case "$code" in
  0) outcome="done" ;;
  1) outcome="failed" ;;
  2) outcome="changes pending" ;;
  3) outcome="verification failed" ;;
  *) outcome="exit code $code" ;;
esac
if [ "$COMMAND" = drift ] && [ "$code" = 2 ]; then outcome="drift found"; fi
marker="<!-- authform-plan -->"
if [ -n "${ENVIRONMENT:-}" ]; then marker="<!-- authform-plan environment=$ENVIRONMENT -->"; fi

if [ "$markdown" = true ] && [ "$code" != 1 ]; then
  cp "$out" "$report"
else
  {
    if [ "$COMMAND" = plan ]; then echo "$marker"; fi
    echo "### authform $COMMAND${ENVIRONMENT:+ (environment: $ENVIRONMENT)}: $outcome"
    echo
    echo '````text'
    # Workflow commands are for the runner; readers get the same problems as file:line:column.
    cat "$out" "$err" | grep -v '^::' || true
    echo '````'
  } >"$report"
fi
if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then cat "$report" >>"$GITHUB_STEP_SUMMARY"; fi

{
  echo "exit-code=$code"
  echo "report=$report"
  echo "plan-file=$plan_file"
} >>"$GITHUB_OUTPUT"
exit 0
