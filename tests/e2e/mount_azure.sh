#!/usr/bin/env bash
# A recovery point of an Azure vault (Azurite) mounted through the runner: the files read back
# byte for byte (chunks fetched with ranged gets as they are read), then unmounted.
#   usage: mount_azure.sh /path/to/obagent      (OBAGENT_TEST_AZURITE: the Azurite account URL)
set -euo pipefail
OB=$1
[ -n "${OBAGENT_TEST_AZURITE:-}" ] || { echo "OBAGENT_TEST_AZURITE not set: skipped"; exit 77; }
if [ ! -c /dev/fuse ] || ! command -v fusermount3 >/dev/null; then
  echo "SKIP: /dev/fuse or fusermount3 is missing here (apt-get install fuse3; modprobe fuse)"; exit 77
fi
KEY="Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
work=$(mktemp -d /tmp/obagent-azmount-XXXXXX)
cleanup() {
  local rc=$?
  { grep " $work/" /proc/self/mountinfo || true; } | awk '{print $5}' | while read -r m; do umount -l "$m" 2>/dev/null || true; done
  [ -n "${KEEP:-}" ] || rm -rf "$work"
  exit $rc
}
trap cleanup EXIT
export OBAGENT_HOME=$work/home OBAGENT_SERVER_NAME=azmount-test
container=azmount-$$-$RANDOM
az=(--account devstoreaccount1 --container "$container" --endpoint "$OBAGENT_TEST_AZURITE")
OBAGENT_OWNER_KEY=$KEY "$OB" vault-create --name AzMount "${az[@]}" >/dev/null
creds=$(OBAGENT_OWNER_KEY=$KEY "$OB" credentials "${az[@]}" --out "$work/creds" --days 2)
"$OB" register "$creds" >/dev/null
OBAGENT_PASSPHRASE='azure mount passphrase 12345' "$OB" passphrase >/dev/null
mkdir -p "$work/data/sub"
head -c $((9 * 1024 * 1024 + 17)) /dev/urandom >"$work/data/random.bin"
seq 1 200000 >"$work/data/sub/text.log"
ln -s sub/text.log "$work/data/link"
"$OB" policy "$work/data" >/dev/null
"$OB" backup >/dev/null
point=$("$OB" points | awk '{print $1; exit}')
ds=$("$OB" points | sed -n 's/.*ids \[\([0-9]*\)\].*/\1/p' | head -1)
out=$("$OB" mount --point "$point" --datasource "$ds" 2>/dev/null)
job=${out%% *}
mnt=${out#* }
diff -r --no-dereference "$work/data" "$mnt$work/data" || { echo "FAIL: the mounted point differs"; exit 1; }
"$OB" unmount "$job"
for _ in $(seq 1 3000); do
  state=$("$OB" jobs 50 | awk -v j="$job" '$1 == j { print $3; exit }')
  [ "$state" != InProgress ] && break
  sleep 0.1
done
[ "$state" = Completed ] || { echo "FAIL: the mount job is $state"; exit 1; }
echo "PASS: mount_azure"
