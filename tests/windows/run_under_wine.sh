#!/usr/bin/env bash
# run_under_wine.sh <wine64> <program.exe> [args]: runs a Windows test program under Wine in a
# throwaway prefix (created here, removed afterwards) and exits with the program's status.
set -euo pipefail
wine=$1
shift
prefix=$(mktemp -d "${TMPDIR:-/tmp}/rmm-wine.XXXXXX")
trap 'WINEPREFIX=$prefix timeout 30 "$(dirname "$wine")/wineserver" -k 2>/dev/null || true; rm -rf "$prefix"' EXIT
export WINEPREFIX=$prefix WINEDEBUG=-all WINEDLLOVERRIDES='mscoree,mshtml='
# The first start creates the prefix (about 20 s); bounded so a stuck Wine fails the test.
timeout 300 "$wine" "$@"
