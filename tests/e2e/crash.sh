#!/usr/bin/env bash
# Crash test: kill -9 the backup worker at 20+ random moments, then back up to the
# end and check that the vault is valid, the data restores byte for byte from the
# newest point, and nothing stored before a kill was uploaded again: every blob is
# in exactly one pack of the vault (read from the packs' own headers).
#   usage: crash.sh /path/to/obagent /path/to/vault_blobs [kills]
# No step depends on the machine's speed: a kill lands at a random moment within
# the time the last whole run took, every wait polls for its condition with a bound
# no loaded machine reaches, and rounds go on until enough kills landed.
set -euo pipefail
OB=$1
BLOBS=$2
KILLS=${3:-24}
RANDOM=42
work=$(mktemp -d /tmp/obagent-crash-XXXXXX)
pid=""
job=""
cleanup() {
  # Only the worker of our own job, by its process id.
  [ -n "$job" ] && [ -z "$pid" ] && pid=$(pgrep -f "run-job --job $job" || true)
  [ -n "$pid" ] && kill -9 $pid 2>/dev/null || true
  [ -n "${KEEP:-}" ] || rm -rf "$work"
}
trap cleanup EXIT
export OBAGENT_HOME=$work/home OBAGENT_SERVER_NAME=crash-test
unset OBAGENT_NOW

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

# The final line of a job in 'obagent jobs' once it has ended ("" while it runs).
job_line() { "$OB" jobs 200 | grep "^$1 " | grep -v " InProgress " || true; }

# Wait (up to 15 minutes) for a job to end; prints its line.
wait_end() {
  local line=""
  for _ in $(seq 1 9000); do
    line=$(job_line "$1")
    [ -n "$line" ] && { echo "$line"; return 0; }
    sleep 0.1
  done
  echo "FAIL: job $1 did not end" >&2
  return 1
}

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
whole_ms=0   # how long the last run that was not killed took
for k in $(seq 1 $((KILLS * 10))); do
  [ "$killed" -ge "$KILLS" ] && break
  rounds=$k
  # New data each round (something to upload when killed), and every file touched,
  # so that each round reads the whole tree and a kill can land anywhere in it.
  head -c $((512 * 1024 + RANDOM * 16)) /dev/urandom >> "$data/bin/r$((k % 8 + 1)).bin"
  find "$data" -type f -exec touch {} +
  started=$(now_ms)
  line=$("$OB" backup --async)
  job=${line%% *}
  # The first round runs whole: it measures how long a run takes on this machine now.
  delay=-1
  [ "$whole_ms" -gt 0 ] && delay=$(( (RANDOM * 32768 + RANDOM) % whole_ms ))
  pid=""
  while [ -z "$(job_line "$job")" ]; do
    [ -n "$pid" ] || pid=$(pgrep -f "run-job --job $job" || true)
    if [ -n "$pid" ] && [ "$delay" -ge 0 ] && [ $(( $(now_ms) - started )) -ge "$delay" ]; then
      kill -9 "$pid" 2>/dev/null || true
      break
    fi
    sleep 0.01
  done
  final=$(wait_end "$job")
  pid=""
  case "$final" in
    *" Failed "*"ended unexpectedly"*) killed=$((killed + 1)) ;;
    *" Completed "*) whole_ms=$(( $(now_ms) - started )) ;;
    *) echo "FAIL: round $k: $final"; cat "$OBAGENT_HOME/worker.log" 2>/dev/null || true; exit 1 ;;
  esac
  # Which packs each round left, to name the round that stored a blob twice.
  "$BLOBS" | awk -v r="$k" '{print $1, r}' | sort -u > "$work/packs.$k"
done
echo "killed the worker $killed times in $rounds rounds"
[ "$killed" -ge "$KILLS" ] || { echo "FAIL: only $killed of $KILLS kills landed in $rounds rounds"; exit 1; }

"$OB" backup > "$work/final.txt" || { cat "$work/final.txt"; cat "$OBAGENT_HOME/worker.log"; exit 1; }
point=$("$OB" points | head -n 1 | awk '{print $1}')
for p in $("$OB" points | awk '{print $1}'); do
  "$OB" test-point "$p" >/dev/null || { echo "FAIL: point $p is damaged"; exit 1; }
done
"$OB" restore --point "$point" --dest "$work/out" --item "${data#/}" >/dev/null
diff -r "$data" "$work/out/${data#/}" || { echo "FAIL: the restored tree (newest point $point) differs"; exit 1; }

# Nothing uploaded twice: no blob id is in two packs.
"$BLOBS" > "$work/blobs.txt"
dups=$(awk '{print $2}' "$work/blobs.txt" | sort | uniq -d)
if [ -n "$dups" ]; then
  echo "FAIL: $(echo "$dups" | wc -l) blobs are stored more than once:"
  for b in $(echo "$dups" | head -n 5); do
    for p in $(awk -v b="$b" '$2 == b {print $1}' "$work/blobs.txt"); do
      first=$(cat "$work"/packs.* 2>/dev/null | awk -v p="$p" '$1 == p {print $2}' | sort -n | awk 'NR == 1')
      echo "  blob $b in pack $p (there after round ${first:-final})"
    done
  done
  exit 1
fi
echo "$(wc -l < "$work/blobs.txt") blobs in $(awk '{print $1}' "$work/blobs.txt" | sort -u | wc -l) packs, each stored once"
echo "1 passed, 0 failed"
