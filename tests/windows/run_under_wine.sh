#!/usr/bin/env bash
# run_under_wine.sh <wine64> <program.exe> [args]: runs a Windows test program under Wine in a
# throwaway prefix (created here, removed afterwards) and exits with the program's status.
#
# The program's output goes through a file, not ctest's pipe: a Wine process that outlives the
# program (wineserver, a service, a detached child) would otherwise hold that pipe open and ctest
# would wait for it until its own timeout, long after the program finished.
set -euo pipefail
wine=$1
shift
wineserver=$(dirname "$wine")/wineserver
work=$(mktemp -d "${TMPDIR:-/tmp}/rmm-wine.XXXXXX")
prefix=$work/prefix
out=$work/output

# wine_processes: the processes of this prefix that are still there (pid, age, command).
wine_processes() {
  local env pid
  for env in /proc/[0-9]*/environ; do
    pid=${env#/proc/}
    pid=${pid%/environ}
    if tr '\0' '\n' 2>/dev/null <"$env" | grep -qxF "WINEPREFIX=$prefix"; then
      ps -o pid=,etime=,args= -p "$pid" 2>/dev/null || true
    fi
  done
}

cleanup() {
  WINEPREFIX=$prefix timeout -k 5 30 "$wineserver" -k 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
export WINEPREFIX=$prefix WINEDEBUG=-all WINEDLLOVERRIDES='mscoree,mshtml='

# The first start creates the prefix (about 20 s). Bounded, with SIGKILL: Wine ends only the
# signalled thread on SIGTERM, so a program stuck at exit would outlive `timeout`.
timeout -k 10 300 "$wine" "$@" >"$out" 2>&1 </dev/null &
pid=$!
# A program whose doctest summary is out has finished its tests; if Wine then does not end the
# process within 60 s, the summary's verdict stands and the hang is reported, with what is left.
summary_at=
hung=0
while kill -0 "$pid" 2>/dev/null; do
  if [[ -z $summary_at ]] && grep -q '^\[doctest\] Status:' "$out"; then
    summary_at=$SECONDS
  fi
  if [[ -n $summary_at ]] && ((SECONDS - summary_at > 60)); then
    echo "run_under_wine: WARNING: $(basename "$1") did not exit 60 s after its test summary;" \
      "killed. Processes of its prefix:" >&2
    wine_processes >&2
    pkill -KILL -P "$pid" 2>/dev/null || true  # wine64, under timeout
    hung=1
    break
  fi
  sleep 1
done
rc=0
wait "$pid" || rc=$?
cat "$out"
if ((hung)); then
  grep -q '^\[doctest\] Status: SUCCESS' "$out" && rc=0 || rc=1
elif ((rc == 124 || rc == 137)); then
  echo "run_under_wine: $(basename "$1") did not exit within 300 s; processes of its prefix:" >&2
  wine_processes >&2
fi
exit "$rc"
