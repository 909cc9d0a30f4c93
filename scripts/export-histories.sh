#!/usr/bin/env bash
# Exports recent order workflow histories from a Temporal cluster, for replay against a new build before it is
# released (docs/rollouts.md, "The determinism guard"): the workflows of type OrderWorkflow started within the last
# MAX_AGE_HOURS hours, newest first, at most LIMIT of them, each as OUT/<workflow id>.json in the format of
# `temporal workflow show --output json`, which the replay tests read (the file name is the workflow id).
#
#   scripts/export-histories.sh OUT
#
# Settings (environment):
#   TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS...   read by the Temporal CLI itself
#   LIMIT            at most this many histories (default 200)
#   MAX_AGE_HOURS    started within this many hours (default 72, the namespace's retention)
#   WORKFLOW_TYPE    default OrderWorkflow
#   TEMPORAL_CLI     the CLI command (default: temporal), e.g.
#                    "docker run --rm -e TEMPORAL_ADDRESS -e TEMPORAL_NAMESPACE -e TEMPORAL_API_KEY temporalio/admin-tools:1.31.2 temporal"
# Needs jq. Exits non-zero, saying why, when the CLI or jq is missing or the cluster cannot be listed; a workflow
# whose history cannot be read (deleted since it was listed) is skipped with a warning.
set -euo pipefail

fail() {
  echo "export-histories.sh: $*" >&2
  exit 1
}

out=${1:-}
[[ -n "$out" ]] || fail "usage: scripts/export-histories.sh OUT"
limit=${LIMIT:-200}
max_age_hours=${MAX_AGE_HOURS:-72}
workflow_type=${WORKFLOW_TYPE:-OrderWorkflow}
[[ "$limit" =~ ^[1-9][0-9]*$ ]] || fail "LIMIT must be a positive number (got '$limit')"
[[ "$max_age_hours" =~ ^[1-9][0-9]*$ ]] || fail "MAX_AGE_HOURS must be a positive number of hours (got '$max_age_hours')"
[[ "$workflow_type" =~ ^[A-Za-z0-9_.-]+$ ]] || fail "WORKFLOW_TYPE must be a type name (got '$workflow_type')"
command -v jq >/dev/null || fail "jq is required (Debian/Ubuntu: sudo apt-get install jq)"
read -r -a cli <<<"${TEMPORAL_CLI:-temporal}"
command -v "${cli[0]}" >/dev/null || fail "the Temporal CLI ('${cli[0]}') is not on PATH: install it (https://temporal.io/setup/install-temporal-cli) or set TEMPORAL_CLI"

since=$(date -u -d "-${max_age_hours} hours" +%Y-%m-%dT%H:%M:%SZ)
query="WorkflowType=\"$workflow_type\" AND StartTime > \"$since\""
mkdir -p "$out"

listing=$("${cli[@]}" workflow list --query "$query" --limit "$limit" --output json) \
  || fail "could not list workflows ($query)"
# The listing is a JSON array or a stream of objects, depending on the CLI's version: take every execution in it.
mapfile -t executions < <(jq -r '.. | objects | select(has("execution")) | .execution | "\(.workflowId) \(.runId)"' <<<"$listing")

exported=0
for execution in "${executions[@]}"; do
  read -r workflow_id run_id <<<"$execution"
  # A workflow id is the file's name: nothing that could leave the folder.
  if [[ ! "$workflow_id" =~ ^[A-Za-z0-9_.-]+$ ]]; then
    echo "export-histories.sh: skipping workflow id '$workflow_id': not a safe file name" >&2
    continue
  fi
  if "${cli[@]}" workflow show --workflow-id "$workflow_id" --run-id "$run_id" --output json >"$out/$workflow_id.json.part"; then
    mv "$out/$workflow_id.json.part" "$out/$workflow_id.json"
    exported=$((exported + 1))
  else
    rm -f "$out/$workflow_id.json.part"
    echo "export-histories.sh: skipping $workflow_id: its history could not be read" >&2
  fi
done
echo "Exported $exported of ${#executions[@]} $workflow_type histories started since $since into $out"
