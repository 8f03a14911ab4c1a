#!/usr/bin/env bash
# What the policy names, through the CLI: a wildcard inclusion backs up the files it names in
# its folder and subfolders; a missing inclusion is committed with a warning; a backup that finds
# one missing ends CompletedWithWarning (exit 3) and names it; with none left it fails and
# makes no recovery point.
#   usage: missing.sh /path/to/obagent
set -euo pipefail
OB=$1
work=$(mktemp -d /tmp/obagent-missing-XXXXXX)
trap '[ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
export OBAGENT_HOME=$work/home OBAGENT_SERVER_NAME=missing-test
fail() { echo "FAIL: $*" >&2; exit 1; }

"$OB" vault-create --name Missing --path "$work/vault" >/dev/null
"$OB" register "$("$OB" credentials --vault "$work/vault" --out "$work/creds")" >/dev/null
OBAGENT_PASSPHRASE='missing test passphrase 1234' "$OB" passphrase >/dev/null
mkdir -p "$work/logs/sub" "$work/share"
echo a > "$work/logs/a.log"; echo b > "$work/logs/b.txt"; echo c > "$work/logs/sub/c.log"
echo s > "$work/share/s.txt"

# Committed, with a warning for what does not exist now.
"$OB" policy "$work/logs/*.log" "$work/share" "$work/later" 2>"$work/policy.err" >/dev/null
grep -qF "'$work/later' does not exist" "$work/policy.err" || fail "no warning for a missing inclusion"
grep -qF "'$work/share'" "$work/policy.err" && fail "a warning for an inclusion that exists"

# The wildcard's files, the folder's files; the missing one named, exit 3 (CompletedWithWarning).
rc=0; "$OB" backup >"$work/b1.out" 2>"$work/b1.err" || rc=$?
[ "$rc" = 3 ] || fail "backup with one inclusion missing: exit $rc, expected 3"
grep -qF "$work/later" "$work/b1.err" || fail "the missing inclusion is not named"
point=$("$OB" points | awk 'NR==1 {print $1}')
volume=$(df --output=target "$work" | tail -1)          # the data source: the mount point that holds $work
rel=${work#"$volume"}; rel=${rel#/}
"$OB" restore --point "$point" --dest "$work/out" --item "$rel" >/dev/null
got=$work/out/$rel
[ -f "$got/logs/a.log" ] && [ -f "$got/logs/sub/c.log" ] || fail "the wildcard's files were not backed up"
[ -e "$got/logs/b.txt" ] && fail "a file the wildcard does not name was backed up"
[ -f "$got/share/s.txt" ] || fail "the folder was not backed up"

# Nothing left: the backup fails and makes no point.
rm -rf "$work/logs" "$work/share"
points=$("$OB" points | wc -l)
rc=0; "$OB" backup >"$work/b2.out" 2>&1 || rc=$?
[ "$rc" = 1 ] || fail "backup with every inclusion missing: exit $rc, expected 1"
grep -q "Nothing was backed up" "$work/b2.out" || fail "the failure does not say that nothing was backed up"
[ "$("$OB" points | wc -l)" = "$points" ] || fail "a failed backup made a recovery point"
echo "ok"
