# Shared settings for the no-Docker local stack. Sourced, not run.
# Every value can be overridden from the environment.
set -euo pipefail

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
VIGIL_LOCAL_DIR=${VIGIL_LOCAL_DIR:-$REPO_ROOT/.local}
VIGIL_PG_HOST=${VIGIL_PG_HOST:-127.0.0.1}
VIGIL_PG_PORT=${VIGIL_PG_PORT:-5432}
VIGIL_PG_USER=${VIGIL_PG_USER:-vigil}
VIGIL_PG_PASSWORD=${VIGIL_PG_PASSWORD:-vigil}
VIGIL_PG_DB=${VIGIL_PG_DB:-vigil}
VIGIL_KAFKA_HOST=${VIGIL_KAFKA_HOST:-127.0.0.1}
VIGIL_KAFKA_PORT=${VIGIL_KAFKA_PORT:-9092}
VIGIL_KAFKA_CONTROLLER_PORT=${VIGIL_KAFKA_CONTROLLER_PORT:-9093}
VIGIL_KAFKA_HEAP=${VIGIL_KAFKA_HEAP:-512m}

log() { printf '[vigil-stack] %s\n' "$*" >&2; }
die() { printf '[vigil-stack] error: %s\n' "$*" >&2; exit 1; }

# port_open HOST PORT: true when something accepts TCP connections there.
port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

# wait_for TIMEOUT_SECONDS DESCRIPTION COMMAND...: polls COMMAND until it succeeds.
wait_for() {
	local deadline=$((SECONDS + $1)) what=$2
	shift 2
	until "$@"; do
		((SECONDS < deadline)) || return 1
		sleep 0.5
	done
	log "$what is ready"
}

APT_UPDATED=""
# apt_install PKG...: installs Debian packages that are missing (needs root).
apt_install() {
	local missing=()
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
	done
	((${#missing[@]})) || return 0
	[[ $(id -u) == 0 ]] || die "missing Debian packages ${missing[*]}: install them or run as root"
	log "installing ${missing[*]} (apt-get)"
	if [[ -z $APT_UPDATED ]]; then
		DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 || die "apt-get update failed"
		APT_UPDATED=1
	fi
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2 ||
		die "could not install ${missing[*]} with apt-get"
}
