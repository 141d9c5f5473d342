#!/usr/bin/env bash
# The action's last step (see ../action.yml): pass or fail by what the exit code means for the
# command. Changes pending are a plan's normal result; drift and failed checks fail the job.
set -euo pipefail

code="${EXIT_CODE:-1}"
case "${COMMAND:?}:$code" in
  *:0) ;;
  plan:2) echo "Changes pending: the plan is in the job summary." ;;
  apply:2)
    echo "::warning title=authform::applied; manual steps or disallowed deletes remain (see the job summary)"
    ;;
  drift:2)
    echo "::error title=authform::the provider no longer matches the manifests (see the job summary)"
    exit 2
    ;;
  verify:3)
    echo "::error title=authform::verification failed (see the job summary)"
    exit 3
    ;;
  *) exit "$code" ;;
esac
