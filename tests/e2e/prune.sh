#!/usr/bin/env bash
# Maintenance end to end: soft-deleted points are purged after 14 days, their space comes
# back, and maintenance killed with -9 at 20 random moments never loses a kept point:
# every kept point still restores byte for byte. No step depends on the machine's speed.
#   usage: prune.sh /path/to/obagent
set -euo pipefail
OB=$1
RANDOM=7
work=$(mktemp -d /tmp/obagent-prune-XXXXXX)
pid=""
# Only the maintenance run we started, by its process id.
trap '[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; [ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
export OBAGENT_HOME=$work/home OBAGENT_SERVER_NAME=prune-test
now=$(date -u +%s)
at() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }
export OBAGENT_NOW=$(at "$now")

data=$work/data
mkdir -p "$data"
gen() { for i in $(seq 1 6); do head -c $((2 * 1024 * 1024 + i * 1000 + $1)) /dev/urandom > "$data/f$i.bin"; done; seq 1 $((100000 + $1)) > "$data/text.log"; }

"$OB" vault-create --name Prune --path "$work/vault" >/dev/null
"$OB" register "$("$OB" credentials --vault "$work/vault" --out "$work/creds")" >/dev/null
OBAGENT_PASSPHRASE='prune test passphrase 12345' "$OB" passphrase >/dev/null
"$OB" policy "$data" >/dev/null

# Five points, each with new data; keep a copy of what each held.
for k in 1 2 3 4 5; do
  gen "$k"
  OBAGENT_NOW=$(at $((now + k * 60))) "$OB" backup >/dev/null
  mkdir -p "$work/expect/$k" && cp -a "$data/." "$work/expect/$k/"
done
mapfile -t points < <("$OB" points | awk '{print $1}')   # newest first: 5 4 3 2 1
before=$("$OB" usage)
# Deleting a point needs a security PIN from the vault owner: refused without one or with a wrong one.
if "$OB" delete-point "${points[4]}" 2>/dev/null; then echo "FAIL: a point was deleted without a PIN"; exit 1; fi
if "$OB" delete-point "${points[4]}" --pin 12345678 2>/dev/null; then echo "FAIL: a point was deleted with a wrong PIN"; exit 1; fi
[ "$("$OB" points | wc -l)" -eq 5 ] || { echo "FAIL: a refused delete-point deleted a point"; exit 1; }
# Delete the three oldest, a PIN each (a PIN works once); 15 days later maintenance may purge them.
pin=$("$OB" pin --vault "$work/vault")
"$OB" delete-point "${points[2]}" --pin "$pin"
if "$OB" delete-point "${points[3]}" --pin "$pin" 2>/dev/null; then echo "FAIL: a PIN was used twice"; exit 1; fi
for p in "${points[@]:3}"; do "$OB" delete-point "$p" --pin "$("$OB" pin --vault "$work/vault")"; done
export OBAGENT_NOW=$(at $((now + 15 * 86400)))

check_kept() {
  local i=0
  for p in "${points[@]:0:2}"; do
    "$OB" test-point "$p" >/dev/null || { echo "FAIL: point $p is damaged"; exit 1; }
    rm -rf "$work/out"
    "$OB" restore --point "$p" --dest "$work/out" --item "${data#/}" >/dev/null
    diff -r "$work/expect/$((5 - i))" "$work/out/${data#/}" >/dev/null || { echo "FAIL: point $p restores differently"; exit 1; }
    i=$((i + 1))
  done
}

# Each round starts from the same state (the points deleted, nothing reclaimed yet), so that
# every kill lands somewhere inside real work: purging, repacking, rewriting the index, deleting.
cp -a "$work/vault" "$work/vault.template"
cp -a "$OBAGENT_HOME" "$work/home.template"
# A kill lands at a random moment within the time the last whole run took (the first
# round runs whole to measure it), so kills land however fast or loaded the machine is.
kills=0
whole_ms=0
for round in $(seq 1 200); do
  [ "$kills" -ge 20 ] && break
  rm -rf "$work/vault" "$OBAGENT_HOME"
  cp -a "$work/vault.template" "$work/vault"
  cp -a "$work/home.template" "$OBAGENT_HOME"
  started=$(now_ms)
  "$OB" maintenance --grace 0 >/dev/null 2>&1 &
  pid=$!
  if [ "$whole_ms" -gt 0 ]; then
    delay=$(( (RANDOM * 32768 + RANDOM) % whole_ms ))
    while kill -0 "$pid" 2>/dev/null && [ $(( $(now_ms) - started )) -lt "$delay" ]; do sleep 0.005; done
    kill -9 "$pid" 2>/dev/null || true
    rc=0
    wait "$pid" 2>/dev/null || rc=$?
    # Counted only when the kill ended it (a run that had finished is a zombie that kill -9 'succeeds' on).
    [ "$rc" -eq 137 ] && kills=$((kills + 1))
    [ "$rc" -eq 0 ] || [ "$rc" -eq 137 ] || { echo "FAIL: maintenance failed ($rc)"; exit 1; }
  else
    wait "$pid" || { echo "FAIL: maintenance failed"; exit 1; }
    whole_ms=$(( $(now_ms) - started ))
  fi
  pid=""
  check_kept                          # right after the kill
  "$OB" maintenance --grace 0 >/dev/null
  check_kept                          # and once a later run has finished the work
done
echo "killed maintenance $kills times in $round rounds"
[ "$kills" -ge 20 ] || { echo "FAIL: only $kills kills landed"; exit 1; }
"$OB" maintenance --grace 0
"$OB" maintenance --grace 0
check_kept
after=$("$OB" usage)
echo "usage before $before bytes, after $after bytes"
[ "$("$OB" points | wc -l)" -eq 2 ] || { echo "FAIL: the kept points are not exactly the two newest"; exit 1; }
[ "$after" -lt $((before * 55 / 100)) ] || { echo "FAIL: the space of the purged points did not come back"; exit 1; }
echo "1 passed, 0 failed"
