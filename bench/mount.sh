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
sync; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || true

t0=$(now); out=$("$OB" mount --point "$point" --datasource "$ds" 2>/dev/null); t1=$(now)
job=${out%% *}; mnt=${out#* }; view=$mnt$W/data
pid=$(pgrep -f "run-job --job $job")
t2=$(now); head -c1 "$view/mixed/$big" >/dev/null; t3=$(now)
ttfb=$(secs "$t2" "$t3"); mount_s=$(secs "$t0" "$t1")
t4=$(now); (cd "$view/mixed" && find . -type f -print0 | xargs -0 cat) | cat >/dev/null; t5=$(now)
seq_s=$(secs "$t4" "$t5")
t6=$(now); nfiles=$(find "$view/small" | wc -l); t7=$(now)
find_s=$(secs "$t6" "$t7")
hwm=$(awk '/VmHWM/ {print $2, $3}' "/proc/$pid/status")
"$OB" unmount "$job"
rm -rf "$W/restore"
sync; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || true
t8=$(now); "$OB" restore --point "$point" --datasource "$ds" --dest "$W/restore" --item "${W#/}/data/mixed" >/dev/null; t9=$(now)
restore_s=$(secs "$t8" "$t9")
rm -rf "$W/restore"
mbps() { python3 -c "print(f'{$mixed_bytes / $1 / 1e6:.0f}')"; }
{
  echo "# obagent mount, $(date -u +%Y-%m-%d) ($(nproc) vCPU)"
  echo
  echo "| measure | obagent |"
  echo "|---|---|"
  echo "| mount (start to mounted) | ${mount_s} s |"
  echo "| time to first byte, largest file of mixed, fresh mount | ${ttfb} s |"
  echo "| sequential read of mixed through the mount | ${seq_s} s ($(mbps "$seq_s") MB/s) |"
  echo "| full restore of mixed (obagent restore) | ${restore_s} s ($(mbps "$restore_s") MB/s) |"
  echo "| find over small through the mount ($nfiles entries) | ${find_s} s |"
  echo "| mount worker peak RSS | $hwm |"
  echo
  for t in restic borg; do command -v $t >/dev/null || echo "$t is not installed here: not measured (bench/run.sh setup installs it)."; done
} >"$OUT"
cat "$OUT" >&2 2>/dev/null || true
