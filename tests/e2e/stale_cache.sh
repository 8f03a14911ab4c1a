#!/usr/bin/env bash
# A stale chunk cache must never make a backup point at data that maintenance deleted.
#  (a) the state folder is rolled back (a VM snapshot revert, a restored /var/lib/obagent) after
#      maintenance purged a point and deleted its packs; the next backup of the same files;
#  (b) two agents under one server name: one purges and runs maintenance, the other backs up;
#  (c) the same while the other agent's backup is running;
#  (d) a pack one agent repacks holds blobs the other's running backup reuses;
#  (e) a backup starts while maintenance of another agent is still deleting.
# In both, the new point must test healthy and restore byte for byte, both for files the old file
# cache still describes (same inode, size, times) and for files rewritten with the old content.
#   usage: stale_cache.sh /path/to/obagent /path/to/vault_generation
set -euo pipefail
OB=$1
GEN=$2
work=$(mktemp -d /tmp/obagent-stale-XXXXXX)
trap '[ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
export OBAGENT_SERVER_NAME=stale-test
now=$(date -u +%s)
at() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }
pass='stale cache passphrase 12345'
fail() { echo "FAIL: $*"; exit 1; }

"$OB" vault-create --name Stale --path "$work/vault" >/dev/null
creds=$("$OB" credentials --vault "$work/vault" --out "$work/creds")
setup_home() {  # home
  OBAGENT_HOME=$1 "$OB" register "$creds" >/dev/null
  OBAGENT_HOME=$1 OBAGENT_PASSPHRASE=$pass "$OB" passphrase >/dev/null
}
# data/kept: files left untouched (the file cache still knows them); data/again: rewritten later
# with the same bytes (new inodes: only the chunk cache can dedup them); data/other: new data.
gen_old() {  # dir
  mkdir -p "$1/kept" "$1/again"
  for i in 1 2 3; do head -c $((1024 * 1024 + i * 4099)) /dev/urandom > "$1/kept/k$i.bin"; done
  for i in 1 2; do head -c $((700 * 1024 + i * 333)) /dev/urandom > "$1/again/a$i.bin"; done
  seq 1 90000 > "$1/again/text.log"
  cp -a "$1/again" "$work/again.$(basename "$1")"
}
gen_other() {  # dir
  mkdir -p "$1/other"
  head -c $((1500 * 1024)) /dev/urandom > "$1/other/o.bin"
}
# Wait until a job of this home has got past its start (its cache check): it has done a file, or
# ended, so that (c) and (d) test the check at the end of a run ((e) tests one that starts during
# maintenance).
started() {  # home
  for _ in $(seq 1 1200); do
    OBAGENT_HOME=$1 "$OB" jobs 1 | head -n 1 | grep -q "InProgress.*files [1-9]" && return 0
    OBAGENT_HOME=$1 "$OB" jobs 1 | head -n 1 | grep -q InProgress || return 0
    sleep 0.1
  done
}
newest() { OBAGENT_HOME=$1 "$OB" points | awk 'NR == 1 {print $1}'; }
check_point() {  # home point data-dir what
  local out=$work/out.$RANDOM
  OBAGENT_HOME=$1 "$OB" test-point "$2" > "$work/test.txt" 2>&1 || { cat "$work/test.txt"; fail "$4: the new point is damaged"; }
  OBAGENT_HOME=$1 "$OB" restore --point "$2" --dest "$out" --item "${3#/}" > "$work/restore.txt" 2>&1 ||
    { cat "$work/restore.txt"; fail "$4: the new point does not restore"; }
  diff -r "$3" "$out/${3#/}" >/dev/null || fail "$4: the new point restores differently"
  rm -rf "$out"
}
purge() {  # home point: soft-delete it, then maintenance 15 days later deletes its packs
  local before after
  OBAGENT_HOME=$1 "$OB" delete-point "$2" --pin "$("$OB" pin --vault "$work/vault")" >/dev/null
  before=$(find "$work/vault" -path '*/packs/*' -type f | wc -l)
  OBAGENT_HOME=$1 OBAGENT_NOW=$(at $((now + 15 * 86400))) "$OB" maintenance --grace 0 >/dev/null
  OBAGENT_HOME=$1 OBAGENT_NOW=$(at $((now + 15 * 86400 + 10))) "$OB" maintenance --grace 0 >/dev/null
  after=$(find "$work/vault" -path '*/packs/*' -type f | wc -l)
  [ "$after" -lt "$before" ] || fail "maintenance deleted no pack ($before before, $after after): the test proves nothing"
}

# ---- (a) the state folder rolled back ----
A=$work/homeA
setup_home "$A"
da=$work/data-a
gen_old "$da"
OBAGENT_HOME=$A "$OB" policy "$da" >/dev/null
OBAGENT_HOME=$A OBAGENT_NOW=$(at "$now") "$OB" backup >/dev/null
p1=$(newest "$A")
cp -a "$A" "$work/homeA.saved"                     # the snapshot of the state folder
# Then: the old files leave the policy, a point of other data, the old point purged.
gen_other "$da"
OBAGENT_HOME=$A "$OB" policy "$da/other" >/dev/null
OBAGENT_HOME=$A OBAGENT_NOW=$(at $((now + 60))) "$OB" backup >/dev/null
purge "$A" "$p1"
# The state folder comes back from the snapshot: its caches name the purged blobs.
rm -rf "$A" && cp -a "$work/homeA.saved" "$A"
rm -rf "$da/other" "$da/again" && cp -a "$work/again.data-a" "$da/again"
OBAGENT_HOME=$A OBAGENT_NOW=$(at $((now + 16 * 86400))) "$OB" backup > "$work/backup.txt" 2>&1 ||
  { cat "$work/backup.txt"; fail "(a) the backup after the rollback failed"; }
check_point "$A" "$(newest "$A")" "$da" "(a) rolled-back state folder"
echo "(a) passed"

# ---- (b) two agents under one server name ----
export OBAGENT_SERVER_NAME=stale-twin
B1=$work/homeB1 B2=$work/homeB2
setup_home "$B1"
setup_home "$B2"
db=$work/data-b
gen_old "$db"
OBAGENT_HOME=$B2 "$OB" policy "$db" >/dev/null
OBAGENT_HOME=$B2 OBAGENT_NOW=$(at "$now") "$OB" backup >/dev/null
q1=$(newest "$B2")
# The first agent backs up other data (and so learns the vault's index), purges the second's point
# and runs maintenance.
gen_other "$work/data-b1"
OBAGENT_HOME=$B1 "$OB" policy "$work/data-b1" >/dev/null
OBAGENT_HOME=$B1 OBAGENT_NOW=$(at $((now + 60))) "$OB" backup >/dev/null
purge "$B1" "$q1"
# The second agent backs up the same files again.
rm -rf "$db/again" && cp -a "$work/again.data-b" "$db/again"
OBAGENT_HOME=$B2 OBAGENT_NOW=$(at $((now + 16 * 86400))) "$OB" backup > "$work/backup.txt" 2>&1 ||
  { cat "$work/backup.txt"; fail "(b) the second agent's backup after maintenance failed"; }
q2=$(newest "$B2")
check_point "$B2" "$q2" "$db" "(b) second agent"
check_point "$B1" "$q2" "$db" "(b) second agent's point, read by the first"
echo "(b) passed"

# ---- (c) maintenance of one agent runs while the other backs up ----
# The second agent's state knows the blobs of a point that is soft-deleted before its backup starts
# (a soft delete is no maintenance: its caches stay trusted). Its backup is throttled, so that it is
# still running when the first agent's maintenance purges that point and deletes the packs. Whatever
# the order, no Completed backup may leave a damaged point: the run either commits a healthy point or
# fails saying to run it again, and the run after is healthy.
export OBAGENT_SERVER_NAME=stale-race
C1=$work/homeC1 C2=$work/homeC2
setup_home "$C1"
setup_home "$C2"
dc=$work/data-c
gen_old "$dc"
OBAGENT_HOME=$C2 "$OB" policy "$dc" >/dev/null
OBAGENT_HOME=$C2 OBAGENT_NOW=$(at "$now") "$OB" backup >/dev/null
r1=$(newest "$C2")
OBAGENT_HOME=$C1 "$OB" delete-point "$r1" --pin "$("$OB" pin --vault "$work/vault")" >/dev/null
head -c $((3 * 1024 * 1024)) /dev/urandom > "$dc/new.bin"     # about 12 s at 256 KiB/s
sqlite3 "$C2/catalog.db" "INSERT OR REPLACE INTO settings (name, value) VALUES
  ('throttle.work_days', '127'), ('throttle.start_minute', '0'), ('throttle.end_minute', '1440'),
  ('throttle.work_bandwidth', '262144'), ('throttle.non_work_bandwidth', '262144')"
OBAGENT_HOME=$C2 OBAGENT_NOW=$(at $((now + 60))) "$OB" backup --async >/dev/null
started "$C2"
OBAGENT_HOME=$C1 OBAGENT_NOW=$(at $((now + 15 * 86400))) "$OB" maintenance --grace 0 >/dev/null
raced=0
OBAGENT_HOME=$C2 "$OB" jobs 1 | grep -q InProgress && raced=1
for _ in $(seq 1 1200); do                                    # up to 10 minutes on a busy machine
  OBAGENT_HOME=$C2 "$OB" jobs 1 | grep -q InProgress || break
  sleep 0.5
done
sqlite3 "$C2/catalog.db" "DELETE FROM settings WHERE name LIKE 'throttle.%'"
state=$(OBAGENT_HOME=$C2 "$OB" jobs 1 | head -n 1)
echo "the throttled backup ${raced:+(still running when maintenance ended: $raced)}: $state"
case "$state" in
  *" Completed "*)
    check_point "$C2" "$(newest "$C2")" "$dc" "(c) backup during maintenance" ;;
  *Failed*)
    grep -q "ran during this backup" "$C2/worker.log" || OBAGENT_HOME=$C2 "$OB" jobs 1 | grep -q "ran during this backup" ||
      { OBAGENT_HOME=$C2 "$OB" jobs 1; tail -5 "$C2/worker.log"; fail "(c) the backup failed for another reason"; } ;;
  *) fail "(c) the backup ended neither Completed nor Failed: $state" ;;
esac
OBAGENT_HOME=$C2 OBAGENT_NOW=$(at $((now + 16 * 86400))) "$OB" backup > "$work/backup.txt" 2>&1 ||
  { cat "$work/backup.txt"; fail "(c) the backup after the race failed"; }
check_point "$C2" "$(newest "$C2")" "$dc" "(c) the backup after the race"
echo "(c) passed"

# ---- (d) a pack one agent repacks holds what the other's running backup reuses ----
# A point of both files is soft-deleted while a later point keeps one of them. The other agent's
# backup of both (throttled: still running) reuses the dropped file's blobs while maintenance
# (default grace) purges the point and repacks their pack. A repacked pack waits out the grace like
# an unused one, so the backup finds the blobs still stored, indexes them again and completes; its
# point stays healthy after a maintenance run past the grace.
export OBAGENT_SERVER_NAME=stale-repack
D1=$work/homeD1 D2=$work/homeD2
setup_home "$D1"
setup_home "$D2"
dd=$work/data-d
mkdir -p "$dd/gone" "$dd/stay"
head -c $((1200 * 1024)) /dev/urandom > "$dd/gone/g.bin"
head -c $((600 * 1024)) /dev/urandom > "$dd/stay/s.bin"
OBAGENT_HOME=$D2 "$OB" policy "$dd" >/dev/null
OBAGENT_HOME=$D2 OBAGENT_NOW=$(at "$now") "$OB" backup >/dev/null
s1=$(newest "$D2")
OBAGENT_HOME=$D2 "$OB" policy "$dd/stay" >/dev/null
OBAGENT_HOME=$D2 OBAGENT_NOW=$(at $((now + 60))) "$OB" backup >/dev/null
OBAGENT_HOME=$D1 "$OB" delete-point "$s1" --pin "$("$OB" pin --vault "$work/vault")" >/dev/null
OBAGENT_HOME=$D2 "$OB" policy "$dd" >/dev/null
head -c $((3 * 1024 * 1024)) /dev/urandom > "$dd/new.bin"
sqlite3 "$D2/catalog.db" "INSERT OR REPLACE INTO settings (name, value) VALUES
  ('throttle.work_days', '127'), ('throttle.start_minute', '0'), ('throttle.end_minute', '1440'),
  ('throttle.work_bandwidth', '262144'), ('throttle.non_work_bandwidth', '262144')"
OBAGENT_HOME=$D2 OBAGENT_NOW=$(at $((now + 15 * 86400))) "$OB" backup --async >/dev/null
started "$D2"
OBAGENT_HOME=$D1 OBAGENT_NOW=$(at $((now + 15 * 86400))) "$OB" maintenance > "$work/maint.txt"
grep -q "repacked [1-9]" "$work/maint.txt" ||
  { cat "$work/maint.txt"; fail "(d) maintenance repacked nothing: the test proves nothing"; }
for _ in $(seq 1 1200); do
  OBAGENT_HOME=$D2 "$OB" jobs 1 | grep -q InProgress || break
  sleep 0.5
done
sqlite3 "$D2/catalog.db" "DELETE FROM settings WHERE name LIKE 'throttle.%'"
state=$(OBAGENT_HOME=$D2 "$OB" jobs 1 | head -n 1)
case "$state" in
  *" Completed "*) ;;
  *) fail "(d) the backup during the repack did not complete: $state" ;;
esac
s3=$(newest "$D2")
check_point "$D2" "$s3" "$dd" "(d) backup during a repack"
OBAGENT_HOME=$D1 OBAGENT_NOW=$(at $((now + 15 * 86400 + 7200))) "$OB" maintenance >/dev/null
OBAGENT_HOME=$D1 OBAGENT_NOW=$(at $((now + 15 * 86400 + 7300))) "$OB" maintenance >/dev/null
check_point "$D1" "$s3" "$dd" "(d) the point after maintenance past the grace"
check_point "$D2" "$s3" "$dd" "(d) the point after maintenance past the grace, second agent"
echo "(d) passed"

# ---- (e) a backup that starts while maintenance of another agent is deleting ----
# A maintenance run took a new generation and is still going: the backup's start check cannot be
# trusted, because that run then deletes the purged point's packs and index objects (done here by
# hand, as the run would, and then its end object). The backup must not commit a point naming them.
export OBAGENT_SERVER_NAME=stale-open
E2=$work/homeE2
setup_home "$E2"
de=$work/data-e
gen_old "$de"
OBAGENT_HOME=$E2 "$OB" policy "$de" >/dev/null
OBAGENT_HOME=$E2 OBAGENT_NOW=$(at "$now") "$OB" backup >/dev/null
area=$(dirname "$(dirname "$(find "$work/vault/servers" -path "*/snapshots/*" -name "$(newest "$E2")*" | head -n 1)")")
old_objects=$(find "$area/packs" "$area/index" -type f)
# The run's new generation, the owner's (readers ignore generation records anyone else writes).
n=$(OBAGENT_HOME=$E2 "$GEN" take)
head -c $((3 * 1024 * 1024)) /dev/urandom > "$de/new.bin"
sqlite3 "$E2/catalog.db" "INSERT OR REPLACE INTO settings (name, value) VALUES
  ('throttle.work_days', '127'), ('throttle.start_minute', '0'), ('throttle.end_minute', '1440'),
  ('throttle.work_bandwidth', '262144'), ('throttle.non_work_bandwidth', '262144')"
OBAGENT_HOME=$E2 OBAGENT_NOW=$(at $((now + 60))) "$OB" backup --async >/dev/null
started "$E2"
# shellcheck disable=SC2086
rm -f $old_objects
OBAGENT_HOME=$E2 "$GEN" end "$n"
for _ in $(seq 1 1200); do
  OBAGENT_HOME=$E2 "$OB" jobs 1 | grep -q InProgress || break
  sleep 0.5
done
sqlite3 "$E2/catalog.db" "DELETE FROM settings WHERE name LIKE 'throttle.%'"
state=$(OBAGENT_HOME=$E2 "$OB" jobs 1 | head -n 1)
case "$state" in
  *" Completed "*) check_point "$E2" "$(newest "$E2")" "$de" "(e) backup that started during maintenance" ;;
  *"ran during this backup"*) ;;
  *) fail "(e) the backup ended neither Completed nor with the maintenance message: $state" ;;
esac
OBAGENT_HOME=$E2 OBAGENT_NOW=$(at $((now + 120))) "$OB" backup > "$work/backup.txt" 2>&1 ||
  { cat "$work/backup.txt"; fail "(e) the backup after it failed"; }
check_point "$E2" "$(newest "$E2")" "$de" "(e) the backup after"
echo "(e) passed"
echo "5 passed, 0 failed"
