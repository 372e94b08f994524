#!/usr/bin/env bash
# The whole no-Docker local stack: PostgreSQL and Kafka on loopback.
# Usage: stack.sh up|down|status. `up` is idempotent and repairs a
# half-started stack; see postgres.sh and kafka.sh for the details.
set -euo pipefail
here=$(dirname "${BASH_SOURCE[0]}")
case ${1:-} in
up) bash "$here/postgres.sh" up && bash "$here/kafka.sh" up ;;
down) bash "$here/kafka.sh" down; bash "$here/postgres.sh" down ;;
status) rc=0; bash "$here/postgres.sh" status || rc=1; bash "$here/kafka.sh" status || rc=1; exit $rc ;;
*) echo "usage: $0 up|down|status" >&2; exit 2 ;;
esac
