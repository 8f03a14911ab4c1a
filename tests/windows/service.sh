#!/usr/bin/env bash
# The scheduler as a Windows service under wine64 (.ci/windows's last step; docs/WINDOWS.md): a Wine
# prefix of its own (the service uses the machine's state folder, C:\ProgramData\obagent, which no
# other step may share), its wineserver kept alive for the test (Wine stops its services when the
# last program ends), tests/windows/service.ps1 in the PowerShell host. Runs that share the cache
# take turns. Usage: service.sh <module folder> <PwshHost.exe> <cache folder>
set -euo pipefail
mods=$1 host=$2 cache=$3
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
wine=$(command -v wine64 || echo /usr/lib/wine/wine64)
wineserver=$(command -v wineserver || echo /usr/lib/wine/wineserver)
export WINEPREFIX=$cache/wine-service WINEDEBUG=-all
winpath() { printf 'Z:%s' "$1" | tr / '\\'; }
exec 9>"$cache/.service.lock"
flock 9
[ -d "$WINEPREFIX/drive_c" ] || "$wine" wineboot -i >/dev/null 2>&1
clean() {
  "$wine" sc stop obagent >/dev/null 2>&1 || true
  "$wine" sc delete obagent >/dev/null 2>&1 || true
  rm -rf "$WINEPREFIX/drive_c/ProgramData/obagent" "$WINEPREFIX/drive_c/obagent-service"
}
"$wineserver" -p
trap 'clean; "$wineserver" -k >/dev/null 2>&1 || true' EXIT
clean
out=$("$wine" "$host" "$(winpath "$root/tests/windows/service.ps1")" "$(winpath "$mods")" 'C:\obagent-service' \
  "$(winpath "$root/samples/Install-OBAgentService.ps1")" 2>&1 | tr -d '\r') || {
  printf '%s\n' "$out"; echo "[windows] the service test failed" >&2; exit 1; }
printf '%s\n' "$out" | grep -v '^wine: '
printf '%s\n' "$out" | tail -1 | grep -qx 'Service job completed successfully.'
