#!/usr/bin/env bash
# Instant restore through the CLI (docs/MOUNT.md): back up a tree of files of various sizes (one
# of several chunks), links, hard links, extended attributes, modes and times; mount the point and
# compare it with the source byte for byte and field for field; writes fail (EROFS); a backup runs
# while the point is mounted; the mount ends by `unmount`, by `stop` and by its expiry, each
# Completed; a worker killed with -9 leaves a stale mount point that the next mount unmounts (the
# job Failed); a damaged chunk fails the read of its file only (EIO), which the job lists.
#   usage: mount.sh /path/to/obagent
# Exits 77 (ctest's skip) when this machine cannot mount FUSE file systems. Every wait polls for
# its condition with a bound no loaded machine reaches.
set -euo pipefail
OB=$1
if [ ! -c /dev/fuse ] || ! command -v fusermount3 >/dev/null; then
  echo "SKIP: /dev/fuse or fusermount3 is missing here (apt-get install fuse3; modprobe fuse)"
  exit 77
fi
work=$(mktemp -d /tmp/obagent-mount-XXXXXX)
cleanup() {
  local rc=$?
  # Only what this test mounted, by its own paths.
  { grep " $work/" /proc/self/mountinfo || true; } | awk '{print $5}' | while read -r m; do
    umount -l "$m" 2>/dev/null || fusermount3 -u -z "$m" 2>/dev/null || true
  done
  [ -n "${KEEP:-}" ] || rm -rf "$work"
  exit $rc
}
trap cleanup EXIT
export OBAGENT_HOME=$work/home OBAGENT_SERVER_NAME=mount-test
unset OBAGENT_NOW
fail() { echo "FAIL: $*" >&2; exit 1; }

job_state() { "$OB" jobs 100 | awk -v j="$1" '$1 == j { print $3; exit }'; }
# Wait (up to 5 minutes) for a job to leave InProgress; prints its state.
wait_end() {
  local s=""
  for _ in $(seq 1 3000); do
    s=$(job_state "$1")
    [ -n "$s" ] && [ "$s" != InProgress ] && { echo "$s"; return 0; }
    sleep 0.1
  done
  fail "job $1 did not end"
}
mounted() { awk '{print $5}' /proc/self/mountinfo | grep -qxF "$1"; }

data=$work/data
mkdir -p "$data/docs/deep/er" "$data/bin" "$data/links"
: > "$data/docs/empty"
printf x > "$data/docs/one"
head -c 4095 /dev/urandom > "$data/docs/deep/odd"
head -c $((1024 * 1024)) /dev/urandom > "$data/bin/mib"
head -c $((9 * 1024 * 1024 + 12345)) /dev/urandom > "$data/bin/several-chunks"
seq 1 200000 > "$data/docs/deep/er/text.log"
ln -s ../docs/one "$data/links/rel"
ln -s /nonexistent/target "$data/links/dangling"
ln "$data/bin/mib" "$data/links/hard-mib"
ln "$data/bin/mib" "$data/docs/deep/hard-mib2"
setfattr -n user.colour -v blue "$data/docs/one"
setfattr -n user.bin -v 0sAAECAwQ= "$data/bin/mib"
chmod 0600 "$data/docs/one"
chmod 0750 "$data/docs/deep"
chmod 4755 "$data/bin/several-chunks"
chown 1234:5678 "$data/docs/deep/odd"
touch -d '2001-02-03 04:05:06.123456789' "$data/docs/deep/odd"
touch -h -d '2002-03-04 05:06:07' "$data/links/rel"

"$OB" vault-create --name Mount --path "$work/vault" >/dev/null
"$OB" register "$("$OB" credentials --vault "$work/vault" --out "$work/creds")" >/dev/null
OBAGENT_PASSPHRASE='mount test passphrase 1234' "$OB" passphrase >/dev/null
"$OB" policy "$data" >/dev/null
"$OB" backup >/dev/null
point=$("$OB" points | awk '{print $1; exit}')
ds=$("$OB" points | sed -n 's/.*ids \[\([0-9]*\)\].*/\1/p' | head -1)
[ -n "$point" ] && [ -n "$ds" ] || fail "no recovery point"

# ---- mount, compare ----
out=$("$OB" mount --point "$point" --datasource "$ds" 2>"$work/mount.err")
job=${out%% *}
mnt=${out#* }
grep -q "Recovery volume mounted as disk. Browse volume from file explorer to recover items." "$work/mount.err" ||
  fail "no MARS line: $(cat "$work/mount.err")"
mounted "$mnt" || fail "$mnt is not mounted"
[ "$(job_state "$job")" = InProgress ] || fail "mount job $job is not InProgress"
"$OB" mounts | grep -q "^$job .* $mnt " || fail "obagent mounts does not list $job at $mnt"
view=$mnt$data
diff -r --no-dereference "$data" "$view" || fail "contents differ"
# Field for field: type, mode, owner, size (not a folder's), links (not a folder's), mtime to the nanosecond.
fields() {
  (cd "$1" && find . -mindepth 1 | LC_ALL=C sort | while read -r p; do
    if [ -d "$p" ] && [ ! -L "$p" ]; then stat -c '%n %F %a %u %g %y' "$p"; else stat -c '%n %F %a %u %g %s %h %y' "$p"; fi
  done)
}
diff <(fields "$data") <(fields "$view") || fail "metadata differs"
xattrs() { (cd "$1" && find . -mindepth 1 | LC_ALL=C sort | while read -r p; do getfattr -h -d -m - "$p" 2>/dev/null; done); }
diff <(xattrs "$data") <(xattrs "$view") || fail "extended attributes differ"
[ "$(getfattr -h --absolute-names --only-values -n user.bin "$view/bin/mib" | od -An -tx1 | tr -d ' \n')" = 0001020304 ] ||
  fail "a binary extended attribute"
[ "$(readlink "$view/links/dangling")" = /nonexistent/target ] || fail "symlink target"
i1=$(stat -c %i "$view/bin/mib"); i2=$(stat -c %i "$view/links/hard-mib"); i3=$(stat -c %i "$view/docs/deep/hard-mib2")
[ "$i1" = "$i2" ] && [ "$i1" = "$i3" ] || fail "hard links have different inode numbers ($i1 $i2 $i3)"
[ "$i1" != "$(stat -c %i "$view/bin/several-chunks")" ] || fail "two files share an inode number"
# ---- writes are refused ----
for w in "echo x > '$view/new'" "echo x >> '$view/docs/one'" "mkdir '$view/dir'" "rm '$view/docs/one'" \
         "touch '$view/docs/one'" "setfattr -n user.x -v y '$view/docs/one'" "chmod 0777 '$view/docs/one'"; do
  if msg=$(bash -c "$w" 2>&1); then fail "a write succeeded: $w"; fi
  echo "$msg" | grep -q "Read-only file system" || fail "$w: not EROFS: $msg"
done
# ---- a backup runs while the point is mounted ----
echo "changed while mounted" >> "$data/docs/deep/er/text.log"
"$OB" backup >/dev/null || fail "a backup failed while a point was mounted"
[ "$(job_state "$job")" = InProgress ] || fail "the mount ended during the backup"
cmp -s "$data/docs/deep/er/text.log" "$view/docs/deep/er/text.log" && fail "the mount shows the newer backup's file"
# ---- unmount ----
"$OB" unmount "$job" || fail "unmount"
[ "$(wait_end "$job")" = Completed ] || fail "unmounted job is not Completed"
mounted "$mnt" && fail "$mnt still mounted after unmount"
[ -e "$mnt" ] && fail "the mount's own folder $mnt was left behind"

# ---- stop (Stop-OBJob), into a folder given ----
given=$work/browse
out=$("$OB" mount --point "$point" --datasource "$ds" --path "$given" 2>/dev/null)
job=${out%% *}
[ "${out#* }" = "$given" ] || fail "mounted at ${out#* }, not at $given"
cmp "$data/bin/several-chunks" "$given$data/bin/several-chunks" || fail "read through a given folder"
"$OB" stop "$job"
[ "$(wait_end "$job")" = Completed ] || fail "stopped mount is not Completed"
mounted "$given" && fail "$given still mounted after stop"
[ -d "$given" ] || fail "the folder given was removed"

# ---- expiry ----
out=$("$OB" mount --point "$point" --datasource "$ds" --expiry 2 2>/dev/null)
job=${out%% *}
mnt=${out#* }
[ "$(wait_end "$job")" = Completed ] || fail "expired mount is not Completed"
mounted "$mnt" && fail "$mnt still mounted after expiry"

# ---- a worker killed: the next mount cleans its stale mount point ----
out=$("$OB" mount --point "$point" --datasource "$ds" 2>/dev/null)
job=${out%% *}
mnt=${out#* }
pid=$(pgrep -f "run-job --job $job" || true)
[ -n "$pid" ] || fail "no worker for $job"
kill -9 "$pid"
for _ in $(seq 1 3000); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
mounted "$mnt" || fail "expected a stale mount point after kill -9"
out2=$("$OB" mount --point "$point" --datasource "$ds" 2>/dev/null)
job2=${out2%% *}
[ "$(job_state "$job")" = Failed ] || fail "killed mount job is $(job_state "$job"), not Failed"
mounted "$mnt" && fail "the stale mount point $mnt was not unmounted"
cmp "$data/bin/mib" "${out2#* }$data/bin/mib" || fail "read after a crash"
"$OB" unmount "$job2"
[ "$(wait_end "$job2")" = Completed ] || fail "second mount not Completed"

# ---- a damaged chunk: EIO for that file, the others read ----
find "$work/vault" -type f | LC_ALL=C sort > "$work/before"
head -c $((3 * 1024 * 1024)) /dev/urandom > "$data/victim"
"$OB" backup >/dev/null
find "$work/vault" -type f | LC_ALL=C sort > "$work/after"
pack=""
for f in $(comm -13 "$work/before" "$work/after"); do
  [ "$(stat -c %s "$f")" -gt $((3 * 1024 * 1024)) ] && pack=$f
done
[ -n "$pack" ] || fail "no new pack holds the victim's chunks"
# A byte in the middle of the pack, which the 3 MiB of victim's data fill: changed to a value it does not hold.
off=$(( $(stat -c %s "$pack") / 2 ))
old=$(od -An -tu1 -j "$off" -N1 "$pack" | tr -d ' ')
printf "$(printf '\\%03o' $(( (old + 1) % 256 )))" | dd of="$pack" bs=1 seek="$off" conv=notrunc status=none
point2=$("$OB" points | awk '{print $1; exit}')
[ "$point2" != "$point" ] || fail "no second point"
out=$("$OB" mount --point "$point2" --datasource "$ds" 2>/dev/null)
job=${out%% *}
view=${out#* }$data
if msg=$(cat "$view/victim" 2>&1 >/dev/null); then fail "a damaged chunk was read"; fi
echo "$msg" | grep -q "Input/output error" || fail "damaged read is not EIO: $msg"
cmp "$data/bin/several-chunks" "$view/bin/several-chunks" || fail "a sound file does not read beside a damaged one"
cmp "$data/docs/deep/er/text.log" "$view/docs/deep/er/text.log" || fail "the newer point's file"
"$OB" unmount "$job"
[ "$(wait_end "$job")" = CompletedWithWarning ] || fail "a mount that read a damaged chunk is not CompletedWithWarning"
echo "PASS: mount"
