#!/usr/bin/env bash
# The agent's secrets are bound to the machine (docs/SECURITY.md): a state folder, whole, taken to
# another machine does not open its master key there, with a message that says to set the
# passphrase again; setting it again opens the server's key from the vault and the server backs up
# and restores on the new machine; the folder then no longer opens on the first machine. "Another
# machine" is this one with another identity: a private mount namespace (unshare -m) with another
# machine-id bound over /etc/machine-id, as root. A secret sealed before the binding (local.key
# alone) opens once and is sealed again bound (tests/agent/test_registration.c tests that).
#   usage: machine.sh /path/to/obagent
set -euo pipefail
OB=$1
if [ "$(id -u)" != 0 ] || ! unshare -m true 2>/dev/null; then
  echo "SKIP: needs root and unshare -m (a private mount namespace) to give this machine another identity"
  exit 77
fi
idfile=/etc/machine-id
[ -s "$idfile" ] || idfile=/var/lib/dbus/machine-id
if [ ! -s "$idfile" ]; then
  echo "SKIP: this machine has no identity (/etc/machine-id, /var/lib/dbus/machine-id): its secrets are bound to the state folder alone"
  exit 77
fi
work=$(mktemp -d /tmp/obagent-machine-XXXXXX)
trap '[ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
export OBAGENT_HOME=$work/home OBAGENT_SERVER_NAME=machine-test
unset OBAGENT_NOW OBAGENT_PASSPHRASE
PP='machine test passphrase 1'
printf '%s\n' 0123456789abcdef0123456789abcdef > "$work/other-id"
[ "$(cat "$idfile")" != "$(cat "$work/other-id")" ] || printf '%s\n' fedcba9876543210fedcba9876543210 > "$work/other-id"
# Run obagent on "the other machine": this one with the other identity, in a mount namespace of its own.
other() { unshare -m bash -c 'mount --bind "$1" "$2" && shift 2 && exec "$@"' _ "$work/other-id" "$idfile" "$OB" "$@"; }
fail() { echo "FAIL: $*"; exit 1; }

# The other identity is real for the program: the namespace sees it, this one does not.
[ "$(unshare -m bash -c 'mount --bind "$1" "$2" && cat "$2"' _ "$work/other-id" "$idfile")" = "$(cat "$work/other-id")" ] ||
  fail "the bind mount did not give the namespace another machine-id"
[ "$(cat "$idfile")" != "$(cat "$work/other-id")" ] || fail "the bind mount leaked out of its namespace"

mkdir -p "$work/data"
head -c 200000 /dev/urandom > "$work/data/one.bin"
"$OB" vault-create --name Machine --path "$work/vault" >/dev/null
"$OB" register "$("$OB" credentials --vault "$work/vault" --out "$work/creds")" >/dev/null
OBAGENT_PASSPHRASE=$PP "$OB" passphrase >/dev/null
"$OB" policy "$work/data" >/dev/null
"$OB" backup >/dev/null
[ "$(head -c 4 "$OBAGENT_HOME/secrets/master.key")" = OBS2 ] || fail "master.key is not sealed bound to the machine"
"$OB" points | grep -q files || fail "no point listed on the first machine"

# The whole state folder on the other machine: the key does not open, and the message says what to do.
cp -a "$OBAGENT_HOME" "$work/copy"
if out=$(OBAGENT_HOME=$work/copy other points 2>&1); then fail "the copied state folder listed points on another machine: $out"; fi
echo "$out" | grep -q "sealed on another machine" || fail "no clear message on another machine: $out"
echo "$out" | grep -q "Set the encryption passphrase again" || fail "the message does not say what to do: $out"
if out=$(OBAGENT_HOME=$work/copy other backup 2>&1); then fail "the copied state folder backed up on another machine: $out"; fi
echo "$out" | grep -q "sealed on another machine" || fail "no clear message for a backup on another machine: $out"

# Setting the passphrase again there opens the server's key from the vault: back up and restore.
echo "$PP" | OBAGENT_HOME=$work/copy other passphrase >/dev/null || fail "the passphrase could not be set again on the other machine"
echo "two" > "$work/data/two.txt"
OBAGENT_HOME=$work/copy other backup >/dev/null || fail "no backup on the other machine after the passphrase"
newest=$(OBAGENT_HOME=$work/copy other points | head -1 | cut -d' ' -f1)
OBAGENT_HOME=$work/copy other restore --point "$newest" --dest "$work/restored" --item "${work#/}/data" >/dev/null ||
  fail "no restore on the other machine"
diff -r "$work/data" "$work/restored/${work#/}/data" || fail "the restore on the other machine differs"

# That folder is now the other machine's: here it does not open; the original still does.
if out=$(OBAGENT_HOME=$work/copy "$OB" points 2>&1); then fail "the other machine's folder opened here: $out"; fi
echo "$out" | grep -q "sealed on another machine" || fail "no clear message back here: $out"
"$OB" points | grep -q files || fail "the original state folder no longer opens here"
echo "1 passed, 0 failed"
