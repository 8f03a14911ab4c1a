#!/usr/bin/env bash
# bench/mount.sh - instant restore (docs/MOUNT.md) on the shared data: time to first byte of a file
# in a fresh mount, sequential read of the mixed set (1.07 GB) through the mount against a full
# restore of it, `find` over the small set (100,000 files) through the mount, and the mount
# worker's peak memory. restic mount / borg mount are measured beside it only when installed
# (bench/run.sh setup installs them) and a FUSE mount works.
#   bench/mount.sh [OUT.md]      env: SHARED (default ../shared/bench beside the repo), W (work folder)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
SHARED=${SHARED:-$(cd "$repo/../.." 2>/dev/null && pwd)/shared/bench}
[ -x "$SHARED/gen-dataset.sh" ] || SHARED=/work/shared/bench
OB=${OB:-$repo/build/obagent}
W=${W:-/tmp/obagent-bench-mount}
OUT=${1:-/dev/stdout}
[ -c /dev/fuse ] || { echo "no /dev/fuse: nothing to measure" >&2; exit 77; }
mkdir -p "$W"
[ -d "$W/data/mixed" ] || bash "$SHARED/gen-dataset.sh" mixed "$W/data" >/dev/null
[ -d "$W/data/small" ] || bash "$SHARED/gen-dataset.sh" small "$W/data" >/dev/null
export OBAGENT_HOME=$W/home OBAGENT_SERVER_NAME=bench-mount
unset OBAGENT_NOW
now() { date +%s.%N; }
secs() { python3 -c "print(f'{$2 - $1:.3f}')"; }
if [ ! -d "$W/vault" ]; then
  "$OB" vault-create --name BenchMount --path "$W/vault" >/dev/null
  "$OB" register "$("$OB" credentials --vault "$W/vault" --out "$W/creds")" >/dev/null
  OBAGENT_PASSPHRASE='bench mount passphrase 1234' "$OB" passphrase >/dev/null
  "$OB" policy "$W/data" >/dev/null
  "$OB" backup >/dev/null
fi
point=$("$OB" points | awk '{print $1; exit}')
ds=$("$OB" points | sed -n 's/.*ids \[\([0-9]*\)\].*/\1/p' | head -1)
mixed_bytes=$(du -sb --apparent-size "$W/data/mixed" | awk '{print $1}')
big=$(cd "$W/data/mixed" && find . -type f -printf '%s %P\n' | sort -n | tail -1 | cut -d' ' -f2-)
ROUNDS=${ROUNDS:-3}
export RESTIC_PASSWORD='bench mount passphrase 1234' BORG_PASSPHRASE='bench mount passphrase 1234'
export RESTIC_CACHE_DIR=$W/restic-cache BORG_BASE_DIR=$W/borg-base BORG_RELOCATED_REPO_ACCESS_IS_OK=yes
peers=()
for t in restic borg; do command -v $t >/dev/null && peers+=("$t"); done
# The peers' repositories of the same data, made once (restic: default settings; borg: lz4, as bench/run.sh).
if [[ " ${peers[*]} " == *" restic "* ]] && [ ! -d "$W/repo-restic" ]; then
  restic -q init -r "$W/repo-restic" >/dev/null && restic -q -r "$W/repo-restic" backup "$W/data" >/dev/null
fi
if [[ " ${peers[*]} " == *" borg "* ]] && [ ! -d "$W/repo-borg" ]; then
  borg init -e repokey "$W/repo-borg" >/dev/null && borg create -C lz4 "$W/repo-borg::bench" "$W/data" >/dev/null
fi
drop() { sync; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || true; }
wait_for() { local i; for i in $(seq 1 1200); do [ -e "$1" ] && return 0; sleep 0.1; done; echo "timed out waiting for $1" >&2; return 1; }

# One round of a tool: mount, first byte of the largest file, read all of mixed, find over small,
# peak RSS of the serving process; prints "mount ttfb seq find rss_kB".
measure() {
  local tool=$1 t0 t1 t2 t3 t4 t5 t6 t7 mnt view pid hwm out job
  drop
  t0=$(now)
  case $tool in
    obagent)
      out=$("$OB" mount --point "$point" --datasource "$ds" 2>/dev/null)
      job=${out%% *}; mnt=${out#* }; view=$mnt$W/data
      pid=$(pgrep -f "run-job --job $job") ;;
    restic)
      mnt=$W/mnt-restic; mkdir -p "$mnt"
      restic -q -r "$W/repo-restic" mount "$mnt" >/dev/null 2>&1 & pid=$!
      wait_for "$mnt/snapshots/latest"; view=$mnt/snapshots/latest$W/data ;;
    borg)
      mnt=$W/mnt-borg; mkdir -p "$mnt"
      borg mount -f "$W/repo-borg::bench" "$mnt" >/dev/null 2>&1 & pid=$!
      wait_for "$mnt${W}/data"; view=$mnt$W/data ;;
  esac
  wait_for "$view/mixed/$big"
  t1=$(now)
  t2=$(now); head -c1 "$view/mixed/$big" >/dev/null; t3=$(now)
  t4=$(now); (cd "$view/mixed" && find . -type f -print0 | xargs -0 cat) | cat >/dev/null; t5=$(now)
  t6=$(now); find "$view/small" | wc -l >/dev/null; t7=$(now)
  hwm=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")
  case $tool in
    obagent) "$OB" unmount "$job" >/dev/null ;;
    *) fusermount3 -u "$mnt" 2>/dev/null || fusermount -u "$mnt" 2>/dev/null || umount "$mnt"; wait "$pid" 2>/dev/null || true ;;
  esac
  echo "$(secs "$t0" "$t1") $(secs "$t2" "$t3") $(secs "$t4" "$t5") $(secs "$t6" "$t7") $hwm"
}
restore_round() {
  rm -rf "$W/restore"; drop
  local t0 t1; t0=$(now)
  "$OB" restore --point "$point" --datasource "$ds" --dest "$W/restore" --item "${W#/}/data/mixed" >/dev/null
  t1=$(now); rm -rf "$W/restore"; secs "$t0" "$t1"
}

declare -A res
restores=()
for r in $(seq 1 "$ROUNDS"); do
  for t in obagent "${peers[@]}"; do
    res[$t,$r]=$(measure "$t")
    echo "round $r $t: ${res[$t,$r]}" >&2
  done
  restores+=("$(restore_round)")
done
# median (min..max) of field f of a tool's rounds
stat() { local t=$1 f=$2 r; for r in $(seq 1 "$ROUNDS"); do echo "${res[$t,$r]}" | awk -v f="$f" '{print $f}'; done |
  sort -g | awk '{v[NR]=$1} END {m=(NR%2)?v[(NR+1)/2]:(v[NR/2]+v[NR/2+1])/2; printf "%s (%s..%s)", m, v[1], v[NR]}'; }
med() { stat "$1" "$2" | awk '{print $1}'; }
mbps() { python3 -c "print(f'{$mixed_bytes / $1 / 1e6:.0f}')"; }
restore_med=$(printf '%s\n' "${restores[@]}" | sort -g | awk '{v[NR]=$1} END {print (NR%2)?v[(NR+1)/2]:(v[NR/2]+v[NR/2+1])/2}')
{
  echo "# obagent mount beside ${peers[*]:-no peer}, $(date -u +%Y-%m-%d) ($(nproc) vCPU)"
  echo
  echo "$ROUNDS interleaved rounds (obagent, then each peer, page cache dropped before each); median (min..max)."
  echo "$(restic version 2>/dev/null | head -1); $(borg --version 2>/dev/null); $(uname -r)"
  echo
  printf '| measure |'; for t in obagent "${peers[@]}"; do printf ' %s |' "$t"; done; echo
  printf '|---|'; for t in obagent "${peers[@]}"; do printf -- '---|'; done; echo
  row() { printf '| %s |' "$1"; for t in obagent "${peers[@]}"; do printf ' %s%s |' "$(stat "$t" "$2")" "$3"; done; echo; }
  row "mount (start to browsable), s" 1 ""
  row "time to first byte, largest file of mixed, fresh mount, s" 2 ""
  row "sequential read of mixed (1.07 GB) through the mount, s" 3 ""
  row "find over small (100,000 files) through the mount, s" 4 ""
  row "serving process peak RSS, kB" 5 ""
  printf '| read rate through the mount, MB/s |'; for t in obagent "${peers[@]}"; do printf ' %s |' "$(mbps "$(med "$t" 3)")"; done; echo
  echo
  echo "obagent's full restore of mixed (\`obagent restore\`, same rounds): ${restore_med} s ($(mbps "$restore_med") MB/s);"
  echo "reading through the mount runs at $(python3 -c "print(f'{$restore_med / $(med obagent 3) * 100:.0f}')") % of it."
  for t in restic borg; do command -v $t >/dev/null || echo "$t is not installed here: not measured (bench/run.sh setup installs it)."; done
} >"$OUT"
[ "$OUT" = /dev/stdout ] || cat "$OUT" >&2
