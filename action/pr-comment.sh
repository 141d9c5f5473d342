#!/usr/bin/env bash
# The action's comment step (see ../action.yml): the plan as ONE pull-request comment, updated in
# place on each push, never a new comment each time. The comment is found through the REST API
# by the marker on its first line (one comment per environment), then PATCHed; the first time
# it is POSTed. A comment that cannot be written (the read-only token of a pull request from a
# fork) is a warning: the plan is still in the job summary.
set -euo pipefail

: "${GITHUB_REPOSITORY:?}" "${PR_NUMBER:?}" "${REPORT:?}" "${RUNNER_TEMP:?}"
environment="${ENVIRONMENT:-}"
if [ -n "$environment" ] && ! [[ "$environment" =~ ^[a-z0-9][a-z0-9_-]*$ ]]; then
  echo "::warning title=authform::not commenting: '$environment' is not a valid environment name"
  exit 0
fi
marker="<!-- authform-plan -->"
if [ -n "$environment" ]; then marker="<!-- authform-plan environment=$environment -->"; fi

# GitHub refuses comments over 65,536 characters; a longer plan is cut, and stays whole in the
# job summary.
limit=60000
body="$RUNNER_TEMP/authform-comment.md"
{
  if [ "$(head -n 1 "$REPORT")" != "$marker" ]; then echo "$marker"; fi
  if [ "$(wc -c <"$REPORT")" -gt "$limit" ]; then
    head -c "$limit" "$REPORT"
    printf '\n\n(cut: the whole plan is in the job summary)\n'
  else
    cat "$REPORT"
  fi
  printf '\n<sub>authform plan of %s, %s</sub>\n' "${HEAD_SHA:0:7}" "${RUN_URL:-}"
} >"$body"

comments="repos/$GITHUB_REPOSITORY/issues/$PR_NUMBER/comments"
upsert() {
  local ids id
  ids=$(gh api --paginate "$comments?per_page=100" \
    --jq ".[] | select((.body // \"\") | split(\"\\n\")[0] == \"$marker\") | .id") || return 1
  id="${ids%%$'\n'*}"
  if [ -n "$id" ]; then
    gh api --method PATCH "repos/$GITHUB_REPOSITORY/issues/comments/$id" -F "body=@$body" \
      >/dev/null || return 1
    echo "Updated the plan comment ($id)."
  else
    gh api --method POST "$comments" -F "body=@$body" >/dev/null || return 1
    echo "Posted the plan comment."
  fi
}
if ! upsert; then
  echo "::warning title=authform::could not post the plan comment (pull requests from forks get a read-only token); the plan is in the job summary"
fi
