#!/usr/bin/env bash
# Rebuilds the example repo's .state/ from scratch with a realistic history, using
# only the public CLI (every write goes through the engine's commit path).
# Usage: scripts/seed-example-state.sh [ROOT]   (default: the project root; needs `npm run build`)
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
root="${1:-$here}"
orc() { node "$here/bin/orc-state.js" "$@" --root "$root" >/dev/null; }

rm -rf "$root/.state"
orc init
orc sync

orc worker w-node-1 worker_registered --capabilities node.typescript
orc worker w-node-1 registration_complete
orc worker w-shell-1 worker_registered --capabilities shell.exec,git.push
orc worker w-shell-1 registration_complete
orc worker w-aider-1 worker_registered --capabilities aider,aider.edit
orc worker w-aider-1 registration_complete
orc worker w-py-1 worker_registered --capabilities python.pytest
orc worker w-py-1 registration_complete

run_ok() { # task worker
  orc task "$1" scheduler_assigned
  orc task "$1" worker_started --worker "$2"
  orc task "$1" execution_completed --exit-code 0
  orc task "$1" validation_passed
}
run_ok ah-lint-baseline w-node-1
run_ok ah-audit-exports w-shell-1

# A retry: the first attempt fails, the second succeeds.
orc task dr-spec-review scheduler_assigned
orc task dr-spec-review worker_started --worker w-aider-1
orc task dr-spec-review execution_failed --error "aider exited 1: API rate limit reached (429)"
orc task dr-spec-review retry_delay_elapsed
orc task dr-spec-review worker_started --worker w-aider-1
orc task dr-spec-review execution_completed --exit-code 0
orc task dr-spec-review validation_passed

# Work in flight.
orc task ah-harden-task-schema scheduler_assigned
orc task ah-harden-task-schema worker_started --worker w-aider-1
orc task ah-harden-state-machine scheduler_assigned
orc worker w-py-1 health_check_timeout --error "no heartbeat for 120 s"

orc plan
