#!/usr/bin/env bash
# build_msi.sh <out.msi> <version> <strip> <wxs> <rmm-agent.exe> <rmm-updater.exe>
#              <rmm-watchdog.exe>
# The agent's Windows installer: stripped copies of the three programs, wixl, then the one table
# entry wixl cannot write (see below). Run by packaging/windows/CMakeLists.txt, which names the
# tools it found in WIXL and MSIBUILD.
set -euo pipefail
out=$1 version=$2 strip=$3 wxs=$4
shift 4
stage=$out.stage
rm -rf "$stage"
mkdir -p "$stage"
trap 'rm -rf "$stage"' EXIT
for exe in "$@"; do
  "$strip" -o "$stage/$(basename "$exe")" "$exe"
done
# wixl resolves File/@Source against the working directory and refuses absolute paths.
cp "$wxs" "$stage/gururmm-agent.wxs"
(cd "$stage" && "${WIXL:-wixl}" -a x64 -D Version="$version" -o package.msi gururmm-agent.wxs)
# wixl 0.101 has no Property/@Secure and writes SecureCustomProperties itself for MajorUpgrade,
# so the site's properties join that list here: without it a per-machine install started by a
# non-administrator would drop them on the elevated side.
secure='WIX_DOWNGRADE_DETECTED;WIX_UPGRADE_DETECTED;SERVERURL;ENROLLCODE;CAFILE;CAPEM;ENROLLCREDS'
"${MSIBUILD:-msibuild}" "$stage/package.msi" -q "UPDATE \`Property\` SET \`Value\` = '$secure' \
WHERE \`Property\` = 'SecureCustomProperties'"
msiinfo export "$stage/package.msi" Property | tr -d '\r' |
  grep -qx "SecureCustomProperties	$secure" ||
  { echo "build_msi.sh: SecureCustomProperties was not updated" >&2; exit 1; }
mv "$stage/package.msi" "$out"
