#!/usr/bin/env bash
# Crash test: kill -9 the backup worker at 20+ random moments, then back up to the
# end and check that the vault is valid, the data restores byte for byte, and
# what was uploaded before a kill was not uploaded again.
#   usage: crash.sh /path/to/obagent [kills]
set -euo pipefail
OB=$1
KILLS=${2:-24}
RANDOM=42
work=$(mktemp -d /tmp/obagent-crash-XXXXXX)
trap 'pkill -9 -f "$work/home" 2>/dev/null || true; [ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
export OBAGENT_HOME=$work/home OBAGENT_SERVER_NAME=crash-test
unset OBAGENT_NOW

data=$work/data
mkdir -p "$data/text" "$data/bin" "$data/small"
for i in $(seq 1 8); do head -c $((3 * 1024 * 1024 + i * 77777)) /dev/urandom > "$data/bin/r$i.bin"; done
for i in $(seq 1 4); do seq $((i * 100000)) $((i * 100000 + 400000)) > "$data/text/t$i.log"; done
for i in $(seq 1 300); do head -c $((1000 + i * 13)) /dev/urandom > "$data/small/s$i"; done

"$OB" vault-create --name Crash --path "$work/vault" >/dev/null
"$OB" register "$("$OB" credentials --vault "$work/vault" --out "$work/creds")" >/dev/null
OBAGENT_PASSPHRASE='crash test passphrase 1234' "$OB" passphrase >/dev/null
"$OB" policy "$data" >/dev/null

killed=0
rounds=0
# Round after round until KILLS kills landed while a backup ran (at most 3 x KILLS rounds).
for k in $(seq 1 $((KILLS * 3))); do
  [ "$killed" -ge "$KILLS" ] && break
  rounds=$k
  # New data each round (something to upload when killed), and every file touched,
  # so that each round reads the whole tree and a kill can land anywhere in it.
  head -c $((512 * 1024 + RANDOM * 16)) /dev/urandom >> "$data/bin/r$((k % 8 + 1)).bin"
  find "$data" -type f -exec touch {} +
  line=$("$OB" backup --async)
  job=${line%% *}
  pid=""
  for _ in $(seq 1 200); do
    pid=$(pgrep -f "run-job --job $job" || true)
    [ -n "$pid" ] && break
    sleep 0.005
  done
  sleep "0.$(printf '%03d' $((RANDOM % 200)))"
  if [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; then
    if "$OB" jobs 1 >/dev/null && ! "$OB" jobs 1 | head -n 1 | grep -q ' Completed '; then
      killed=$((killed + 1))
    fi
  fi
  # Wait until the lock is free (the job is seen as ended).
  for _ in $(seq 1 100); do
    "$OB" jobs 1 | grep -q InProgress || break
    sleep 0.05
  done
done
echo "killed the worker $killed times in $rounds rounds"
[ "$killed" -ge 20 ] || { echo "FAIL: fewer than 20 kills landed"; exit 1; }

"$OB" jobs 100 | grep -c Failed >/dev/null
"$OB" backup > "$work/final.txt" || { cat "$work/final.txt"; cat "$OBAGENT_HOME/worker.log"; exit 1; }
point=$("$OB" points | head -n 1 | awk '{print $1}')
for p in $("$OB" points | awk '{print $1}'); do
  "$OB" test-point "$p" >/dev/null || { echo "FAIL: point $p is damaged"; exit 1; }
done
"$OB" restore --point "$point" --dest "$work/out" --item "${data#/}" >/dev/null
diff -r "$data" "$work/out/${data#/}" || { echo "FAIL: the restored tree differs"; exit 1; }

# Nothing uploaded twice: the vault holds about the data once (compressed text, whole random data).
data_bytes=$(du -sb "$data" | cut -f1)
vault_bytes=$(du -sb "$work/vault" | cut -f1)
echo "data $data_bytes bytes, vault $vault_bytes bytes"
[ "$vault_bytes" -lt $((data_bytes * 115 / 100)) ] || { echo "FAIL: the vault holds data more than once"; exit 1; }
echo "1 passed, 0 failed"
