#!/usr/bin/env bash
# Installs Debian's Chromium for the browser tests if it is missing.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
if command -v chromium >/dev/null; then
	exit 0
fi
apt_install chromium
command -v chromium >/dev/null || die "chromium is not on PATH after installing it"
log "chromium installed: $(chromium --version 2>/dev/null)"
