#!/usr/bin/env bash
# A vault written by obagent before the security rules (docs/SECURITY.md, "Upgrading"): made by
# the runner of commit 1733f73 and kept as tests/e2e/fixtures/vault-1733f73.tar.gz with the
# source tree its newest point holds. Server legacy-server backed up three times, changed its
# passphrase (with a PIN) between the second and the third, soft-deleted its first point (an
# unsigned marker) and ran maintenance (unsigned generation records). Today's code opens it: a new
# agent registers and rebuilds with the passphrase from the version 1 key records, restores the
# newest point byte for byte, tests every point, lists the soft-deleted point again (its unsigned
# marker is ignored, with a warning); the owner's maintenance certifies the server's key (signer)
# and takes a signed generation; after that a forged key record is skipped without the passphrase
# being tried, and a backup and a restore work.
#   usage: legacy_vault.sh /path/to/obagent /path/to/fixture.tar.gz
set -euo pipefail
OB=$1
FIXTURE=$2
work=$(mktemp -d /tmp/obagent-legacy-XXXXXX)
trap '[ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
P2='legacy passphrase two 2'
SID=4ab371936b0d62362345358a0edc92e6      # the id of "legacy-server" (docs/FORMAT.md)
SRC=tmp/obagent-legacy-fixture/src       # where the points hold the source, under their data source /

tar -xzf "$FIXTURE" -C "$work"
area=$work/vault/servers/$SID
[ -f "$area/keys/0000000002" ] && [ ! -e "$area/signer" ] || fail "the fixture is not the vault it should be"
export OBAGENT_SERVER_NAME=legacy-server

# A new agent: credentials issued by today's owner side, then the passphrase opens the v1 wrap.
rebuild() {
	export OBAGENT_HOME=$work/$1
	"$OB" register "$("$OB" credentials --vault "$work/vault" --out "$work/creds-$1")" >/dev/null
	OBAGENT_PASSPHRASE=$P2 "$OB" passphrase >/dev/null 2>"$work/$1.err" || { cat "$work/$1.err" >&2; fail "$1: the passphrase does not open the legacy key"; }
}
rebuild home1

# Three points: the soft-deleted one is listed again, its unsigned marker named.
"$OB" points >"$work/points" 2>"$work/points.err"
[ "$(wc -l <"$work/points")" = 3 ] || { cat "$work/points" >&2; fail "expected 3 points"; }
grep -q "unsigned marker" "$work/points.err" || fail "the unsigned deletion marker is not warned about"
grep -q DAMAGED "$work/points" && fail "a point of the legacy vault is listed damaged"
while read -r point _; do
	"$OB" test-point "$point" >/dev/null 2>&1 || fail "test-point $point"
done <"$work/points"
newest=$(awk 'NR==1 {print $1}' "$work/points")
"$OB" restore --point "$newest" --dest "$work/out1" >/dev/null
diff -r "$work/src" "$work/out1/$SRC" || fail "the newest point does not restore as it was backed up"
[ "$(readlink "$work/out1/$SRC/link")" = a.txt ] || fail "the symlink did not restore"

# The owner's maintenance: nothing purged (the marker does not count), the key certified, a signed generation.
OBAGENT_NOW=$(date -u -d '+15 days' +%Y-%m-%dT%H:%M:%SZ) "$OB" maintenance --grace 0 >"$work/m.out" 2>"$work/m.err"
grep -q "^purged 0 points" "$work/m.out" || { cat "$work/m.out" >&2; fail "maintenance purged a point whose marker does not count"; }
[ -f "$area/signer" ] || fail "maintenance did not certify the server's signing key"
head -1 "$area/signer" | grep -q "^obagent-signer 1" || fail "the signer record is not a signer record"
grep -l "^obagent-generation 2" "$area"/generation/* >/dev/null 2>&1 || fail "maintenance took no signed generation"

# A forged key record above the genuine ones: skipped by its signature, the passphrase still opens the key.
head -c 400 /dev/urandom | base64 -w 0 | sed 's/^/obagent-server-key 2\nsequence=3\nsignature=/' >"$area/keys/0000000003"
rebuild home2
grep -q "keys/0000000003: skipped" "$work/home2.err" || { cat "$work/home2.err" >&2; fail "the forged key record is not named as skipped"; }

# The upgraded area backs up and restores.
mkdir -p "/$SRC"
trap '[ -n "${KEEP:-}" ] || rm -rf "$work" /tmp/obagent-legacy-fixture' EXIT
cp -a "$work/src/." "/$SRC/"
echo echo >"/$SRC/e.txt"
"$OB" policy "/$SRC" >/dev/null
"$OB" backup >"$work/b.out" || fail "a backup of the upgraded area did not complete"
point=$("$OB" points 2>/dev/null | awk 'NR==1 {print $1}')
[ "$point" != "$newest" ] || fail "the backup made no point"
volume=$(df --output=target "/$SRC" | tail -1)          # the new point's data source: the mount point that holds it
rel=${SRC#"${volume#/}"}; rel=${rel#/}
"$OB" restore --point "$point" --dest "$work/out2" >/dev/null
diff -r "/$SRC" "$work/out2/$rel" || fail "the new point does not restore"
echo "legacy vault: opened, restored, upgraded, backed up"
