#!/usr/bin/env bash
# msi_test.sh <wine64> <gururmm-agent.msi> <version>: the agent's installer, read with msiinfo
# (files, services, properties, where the properties go), then installed and removed with
# msiexec under Wine in a throwaway prefix: once with the site's settings on the command line,
# once as a site's copy with the settings baked into its Property table (msibuild), as a server
# would hand it out. Both installs also start the watchdog service, whose agent tries to enroll
# with the installed settings. Every Wine call and wait is bounded.
set -euo pipefail
wine=$1 msi=$2 version=$3
wineserver=$(dirname "$wine")/wineserver
work=$(mktemp -d "${TMPDIR:-/tmp}/rmm-msi.XXXXXX")
prefix=$work/prefix
trap 'WINEPREFIX=$prefix timeout -k 5 30 "$wineserver" -k 2>/dev/null || true; rm -rf "$work"' EXIT
export WINEPREFIX=$prefix WINEDEBUG=-all WINEDLLOVERRIDES='mscoree,mshtml='

failures=0
fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}
pass() { echo "ok: $*"; }
# expect <what> <text> <line>: <text> has <line> as one of its lines.
expect_line() {
  if grep -qxF -- "$3" <<<"$2"; then pass "$1"; else fail "$1: no line '$3' in:"$'\n'"$2"; fi
}
# expect_no_line <what> <text> <fixed string>: no line of <text> contains it.
expect_none() {
  if grep -qF -- "$3" <<<"$2"; then fail "$1: '$3' is still there"; else pass "$1"; fi
}
wine_run() { timeout -k 10 120 "$wine" "$@" 2>/dev/null | tr -d '\r'; }

# --- The package, as msiinfo reads it ---------------------------------------------------------
[[ -s $msi ]] || { echo "FAIL: $msi was not built" >&2; exit 1; }
table() { msiinfo export "$msi" "$1" | tr -d '\r' | tail -n +4; }
files=$(table File | cut -f3)
for exe in rmm-agent.exe rmm-updater.exe rmm-watchdog.exe; do
  expect_line "File table: $exe" "$files" "$exe"
done
props=$(table Property)
expect_line "ProductVersion" "$props" "ProductVersion	$version"
expect_line "UpgradeCode (stable)" "$props" "UpgradeCode	{86D471A4-25D6-49A1-863D-48CDDAD94E0B}"
secure='WIX_DOWNGRADE_DETECTED;WIX_UPGRADE_DETECTED;SERVERURL;ENROLLCODE;CAFILE;CAPEM;ENROLLCREDS'
expect_line "site properties are secure" "$props" "SecureCustomProperties	$secure"
expect_line "the code and the credential are hidden from logs" "$props" \
  "MsiHiddenProperties	ENROLLCODE;ENROLLCREDS"
expect_line "per machine" "$props" "ALLUSERS	1"
expect_line "x64 package" "$(msiinfo suminfo "$msi" | tr -d '\r')" "Template: x64;1033"
# ServiceInstall: name, display name, type 16 (own process), start 2 (auto) / 4 (disabled),
# error control 1, account, arguments.
services=$(table ServiceInstall | cut -f2,4,5,9,11)
expect_line "ServiceInstall GuruRMMWatchdog" "$services" \
  "GuruRMMWatchdog	16	2	LocalSystem	-- \"[INSTALLDIR]rmm-agent.exe\" --nats-url=[SERVERURL]"
expect_line "ServiceInstall GuruRMMAgent" "$services" \
  "GuruRMMAgent	16	4	LocalSystem	--nats-url=[SERVERURL]"
# ServiceControl event 162: stop at install and at removal, delete at removal.
controls=$(table ServiceControl | cut -f2,3)
expect_line "ServiceControl GuruRMMWatchdog" "$controls" "GuruRMMWatchdog	162"
expect_line "ServiceControl GuruRMMAgent" "$controls" "GuruRMMAgent	162"
registry=$(table Registry | cut -f2-5)
for pair in ServerUrl:SERVERURL EnrollCode:ENROLLCODE CaFile:CAFILE CaPem:CAPEM \
  EnrollCreds:ENROLLCREDS; do
  expect_line "Registry $pair" "$registry" \
    "2	SOFTWARE\\GuruRMM\\Agent\\	${pair%%:*}	[${pair##*:}]"
done

# --- Installed under Wine ------------------------------------------------------------------------
dir=$prefix/drive_c/Program\ Files/GuruRMM
svc_key='HKLM\SYSTEM\CurrentControlSet\Services'
settings_key='HKLM\SOFTWARE\GuruRMM\Agent'
pf='C:\Program Files\GuruRMM'
# reg_value <key> <name>: "[text]" of the value as reg query prints it (its first line), nothing
# when there is no such value, so an empty value and a missing one differ.
reg_value() {
  local pattern="s/^    $2    REG_[A-Z_]*\\( \\{4\\}\\(.*\\)\\)\\{0,1\\}\$/[\\2]/p"
  wine_run reg query "$1" /v "$2" | sed -n "$pattern" | head -1
}
# The image path without quotes: Wine's msi writes the program unquoted, Windows Installer is
# expected to quote it; the words must be these either way.
image_path() { reg_value "$svc_key\\$1" ImagePath | tr -d '"'; }

check_installed() {  # <label> <server url> <code> <ca file> <ca pem first line> <creds first line>
  local label=$1 url=$2 code=$3 cafile=$4 pem=$5 creds=$6 exe
  for exe in rmm-agent.exe rmm-updater.exe rmm-watchdog.exe; do
    if [[ $(head -c 2 "$dir/$exe" 2>/dev/null) == MZ ]]; then
      pass "$label: installed $exe"
    else
      fail "$label: $dir/$exe missing or not a program"
    fi
  done
  local q
  q=$(wine_run sc query GuruRMMWatchdog || true)
  expect_line "$label: sc query GuruRMMWatchdog" "$q" \
    "SERVICE_NAME: GuruRMMWatchdog"
  q=$(wine_run sc query GuruRMMAgent || true)
  expect_line "$label: sc query GuruRMMAgent" "$q" \
    "SERVICE_NAME: GuruRMMAgent"
  expect_line "$label: watchdog command line" "$(image_path GuruRMMWatchdog)" \
    "[$pf\\rmm-watchdog.exe -- $pf\\rmm-agent.exe --nats-url=$url]"
  expect_line "$label: agent command line" "$(image_path GuruRMMAgent)" \
    "[$pf\\rmm-agent.exe --nats-url=$url]"
  expect_line "$label: watchdog starts at boot" "$(reg_value "$svc_key\\GuruRMMWatchdog" Start)" \
    "[0x2]"
  expect_line "$label: agent service disabled" "$(reg_value "$svc_key\\GuruRMMAgent" Start)" "[0x4]"
  expect_line "$label: ServerUrl" "$(reg_value "$settings_key" ServerUrl)" "[$url]"
  expect_line "$label: EnrollCode" "$(reg_value "$settings_key" EnrollCode)" "[$code]"
  expect_line "$label: CaFile" "$(reg_value "$settings_key" CaFile)" "[$cafile]"
  expect_line "$label: CaPem" "$(reg_value "$settings_key" CaPem)" "[$pem]"
  expect_line "$label: EnrollCreds" "$(reg_value "$settings_key" EnrollCreds)" "[$creds]"
}

check_removed() {  # <label>
  local label=$1 exe
  for exe in rmm-agent.exe rmm-updater.exe rmm-watchdog.exe; do
    if [[ -e $dir/$exe ]]; then
      fail "$label: $exe is still installed"
    else
      pass "$label: $exe removed"
    fi
  done
  local s
  for s in GuruRMMWatchdog GuruRMMAgent; do
    if wine_run sc query "$s" | grep -q "SERVICE_NAME"; then
      fail "$label: service $s is still registered"
    else
      pass "$label: service $s removed"
    fi
  done
  expect_none "$label: site settings removed" "$(wine_run reg query "$settings_key" || true)" \
    "ServerUrl"
}

msiexec() {  # <label> <args...>: msiexec, with its exit code checked
  local label=$1
  shift
  if timeout -k 10 300 "$wine" msiexec "$@" 2>/dev/null; then
    pass "$label: msiexec $1"
  else
    fail "$label: msiexec $* exited with $?"
  fi
}

cp "$msi" "$work/agent.msi"
url=tls://rmm.example.net:4222
code=K7QXM-2RW4T-9ABCD-EFGHJ-KMNPQ
msiexec "command line" /i 'Z:'"${work//\//\\}"'\agent.msi' /qn "SERVERURL=$url" "ENROLLCODE=$code" \
  'CAFILE=C:\ProgramData\ca.pem'
check_installed "command line" "$url" "$code" 'C:\ProgramData\ca.pem' "" ""
# The installed command line starts: the watchdog service runs the installed agent, which reads
# the site's settings at its first start and stops at enrollment (no ENROLLCREDS was given and no
# enroll.creds was copied, docs/agent.md; tests/windows/e2e enrolls with one), and removal stops
# the running service.
log=$prefix/drive_c/ProgramData/GuruRMM/GuruRMMWatchdog.log
# wait_log <what> <fixed string>: up to 30 s for the watchdog service's log to have it.
wait_log() {
  local i
  for ((i = 0; i < 60; i++)); do
    if grep -qF -- "$2" "$log" 2>/dev/null; then
      pass "$1"
      return
    fi
    sleep 0.5
  done
  fail "$1: no '$2' in $log within 30 s:"$'\n'"$(tail -n 20 "$log" 2>/dev/null)"
}
wine_run sc start GuruRMMWatchdog >/dev/null || true
wait_log "the watchdog service runs the installed agent" \
  'msg=watchdog.started agent="C:\\Program Files\\GuruRMM\\rmm-agent.exe"'
wait_log "the agent tries to enroll with the installed settings" \
  'msg=agent.enroll_failed error="no enrollment credential: HKLM\\SOFTWARE\\GuruRMM\\Agent has no EnrollCreds'
msiexec "command line" /x 'Z:'"${work//\//\\}"'\agent.msi' /qn
wait_log "removal stopped the running watchdog" "msg=service.stopped"
check_removed "command line"

# A site's copy: the settings are the Property table's defaults, msiexec gets none. The broker is
# a loopback port nothing listens on, the CA a real one (the agent loads it before connecting),
# the credential shaped like enroll.creds (it is read only once connected).
cp "$msi" "$work/site.msi"
site_url=tls://127.0.0.1:1
site_code=ZZZZZ-YYYYY-XXXXX-WWWWW-VVVVV
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj /CN=msi-test \
  -days 2 -keyout "$work/ca.key" -out "$work/ca.pem" 2>/dev/null
pem=$(<"$work/ca.pem")
creds=$'-----BEGIN NATS USER JWT-----\neyJ0eXAiOiJKV1QiLCJhbGciOiJlZDI1NTE5LW5rZXkifQ.e30.c2ln\n'
creds+=$'------END NATS USER JWT------\n\n-----BEGIN USER NKEY SEED-----\n'
creds+=$'SUAMSITESTSEEDNOTAREALONEAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n------END USER NKEY SEED------'
insert() {
  msibuild "$work/site.msi" -q \
    "INSERT INTO \`Property\` (\`Property\`, \`Value\`) VALUES ('$1', '$2')"
}
insert SERVERURL "$site_url"
insert ENROLLCODE "$site_code"
insert CAPEM "$pem"
insert ENROLLCREDS "$creds"
msiexec "site copy" /i 'Z:'"${work//\//\\}"'\site.msi' /qn
check_installed "site copy" "$site_url" "$site_code" "" "-----BEGIN CERTIFICATE-----" \
  "-----BEGIN NATS USER JWT-----"
expect_line "site copy: CaPem to its last line" "$(wine_run reg query "$settings_key" /v CaPem)" \
  "-----END CERTIFICATE-----"
expect_line "site copy: EnrollCreds to its last line" \
  "$(wine_run reg query "$settings_key" /v EnrollCreds)" "------END USER NKEY SEED------"
# With the credential the package carries, the first start gets past it to the broker, which is
# not there: the connection fails, and the code and the credential stay for the next try.
wine_run sc start GuruRMMWatchdog >/dev/null || true
wait_log "site copy: the agent enrolls with the package's credential" \
  "msg=agent.enroll_failed error=\"enrolling with $site_url: connecting to $site_url"
expect_line "site copy: the credential is written for enrollment" \
  "$(head -1 "$prefix/drive_c/ProgramData/GuruRMM/enroll.creds" 2>/dev/null)" \
  "-----BEGIN NATS USER JWT-----"
expect_line "site copy: EnrollCreds kept after a failed enrollment" \
  "$(reg_value "$settings_key" EnrollCreds)" "[-----BEGIN NATS USER JWT-----]"
wine_run sc stop GuruRMMWatchdog >/dev/null || true

# A newer site copy replaces it (MajorUpgrade): made from this one as wixl would make 9.9.9, with a
# new ProductCode and the Upgrade rows moved to the new version. The older one is then refused.
new_code='{C0FFEE00-1111-4222-8333-944455556666}'
uninstall_key='HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall'
# As reg query prints it.
new_product="HKEY_LOCAL_MACHINE${uninstall_key#HKLM}\\$new_code"
old_code=$(table Property | sed -n 's/^ProductCode\t//p')
cp "$work/site.msi" "$work/newer.msi"
upgrade_code=$(table Property | sed -n 's/^UpgradeCode\t//p')
# shellcheck disable=SC2016 # SQL quotes its names with backticks
cols='(`UpgradeCode`, `VersionMin`, `VersionMax`, `Language`, `Attributes`, `Remove`,
  `ActionProperty`)'
set_property() { echo "UPDATE \`Property\` SET \`Value\` = '$2' WHERE \`Property\` = '$1'"; }
drop_upgrade() { echo "DELETE FROM \`Upgrade\` WHERE \`ActionProperty\` = '$1'"; }
# The Upgrade table's versions are part of its key: rows are replaced, not updated.
msibuild "$work/newer.msi" -q "$(set_property ProductVersion 9.9.9)" \
  -q "$(set_property ProductCode "$new_code")" \
  -q "$(drop_upgrade WIX_UPGRADE_DETECTED)" -q "$(drop_upgrade WIX_DOWNGRADE_DETECTED)" \
  -q "INSERT INTO \`Upgrade\` $cols VALUES
      ('$upgrade_code', '', '9.9.9', '', 1, '', 'WIX_UPGRADE_DETECTED')" \
  -q "INSERT INTO \`Upgrade\` $cols VALUES
      ('$upgrade_code', '9.9.9', '', '', 2, '', 'WIX_DOWNGRADE_DETECTED')"
msiexec "upgrade" /i 'Z:'"${work//\//\\}"'\newer.msi' /qn
products=$(wine_run reg query "$uninstall_key")
expect_line "upgrade: the newer product is registered" "$products" "$new_product"
expect_none "upgrade: the older product is gone" "$products" "$old_code"
check_installed "upgrade" "$site_url" "$site_code" "" "-----BEGIN CERTIFICATE-----" \
  "-----BEGIN NATS USER JWT-----"
if timeout -k 10 300 "$wine" msiexec /i 'Z:'"${work//\//\\}"'\site.msi' /qn 2>/dev/null; then
  fail "downgrade: the older package installed over the newer one"
else
  pass "downgrade: refused"
fi
expect_line "downgrade: the newer product stays" "$(wine_run reg query "$uninstall_key")" \
  "$new_product"
msiexec "upgrade" /x 'Z:'"${work//\//\\}"'\newer.msi' /qn
check_removed "upgrade"

if ((failures > 0)); then
  echo "$failures check(s) failed" >&2
  exit 1
fi
echo "all checks passed"
