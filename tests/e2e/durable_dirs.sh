#!/usr/bin/env bash
# Every folder obagent creates is synced into its parent (a file synced into a folder that is not
# itself durable can vanish with it): the state folder and its parents, a local vault's folders, the
# pack folders a backup creates. An LD_PRELOAD spy logs the path of every fsync/fdatasync.
#   usage: durable_dirs.sh /path/to/obagent /path/to/libfsync_spy.so
set -euo pipefail
OB=$1
SPY=$2
work=$(mktemp -d /tmp/obagent-durable-XXXXXX)
trap '[ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
work=$(cd "$work" && pwd -P)
export OBAGENT_HOME=$work/state/obagent OBAGENT_SERVER_NAME=durable-test FSYNC_SPY_LOG=$work/fsync.log
# The backup's worker gets only the variables it needs: the spy's log is asked for by name.
export OBAGENT_WORKER_ENV=FSYNC_SPY_LOG
run() { LD_PRELOAD=$SPY "$OB" "$@"; }
mkdir -p "$work/data" && head -c 300000 /dev/urandom > "$work/data/f.bin"

run vault-create --name Durable --path "$work/vaults/one" >/dev/null
run register "$(run credentials --vault "$work/vaults/one" --out "$work/creds")" >/dev/null
OBAGENT_PASSPHRASE='durable test passphrase 1' run passphrase >/dev/null
run policy "$work/data" >/dev/null
run backup >/dev/null
synced() { grep -qx "$1" "$work/fsync.log" || { echo "FAIL: $2 ($1) was never synced"; exit 1; }; }
synced "$work/state" "the parent of the new state folder"
synced "$work/state/obagent" "the state folder, for the new catalog's entries"
synced "$work/vaults" "the parent of the new vault folder"
server=$(ls "$work/vaults/one/servers")
synced "$work/vaults/one/servers" "the parent of the server's new folder"
synced "$work/vaults/one/servers/$server/packs" "the parent of a new pack folder"
echo "1 passed, 0 failed"
