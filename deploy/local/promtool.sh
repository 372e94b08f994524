#!/usr/bin/env bash
# Puts Prometheus's promtool at .local/bin/promtool for the tests that
# check and unit-test deploy/prometheus (alerting rules, configuration).
# It is taken from Debian's prometheus package without installing it: the
# package would also install and start a Prometheus server.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bin=$VIGIL_LOCAL_DIR/bin/promtool
if [[ -x $bin ]]; then
	exit 0
fi
command -v apt-get >/dev/null || die "promtool: apt-get not found; put a promtool at $bin"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
log "fetching promtool (Debian package prometheus)"
if ! (cd "$work" && apt-get download -qq prometheus 2>/dev/null); then
	[[ $(id -u) == 0 ]] || die "promtool: apt-get download failed; run as root or put a promtool at $bin"
	DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 || die "apt-get update failed"
	(cd "$work" && apt-get download -qq prometheus 2>/dev/null) || die "could not download Debian's prometheus package"
fi
dpkg-deb -x "$work"/prometheus_*.deb "$work/x" || die "could not unpack the prometheus package"
mkdir -p "$(dirname "$bin")"
install -m 0755 "$work/x/usr/bin/promtool" "$bin"
log "promtool ready: $("$bin" --version 2>&1 | head -1)"
