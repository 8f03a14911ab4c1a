#!/usr/bin/env bash
# The obagent runner on an Azure vault (Azurite): create it with the owner's key from the
# environment, issue credentials, register, back up, restore, compare; the agent's home
# holds no account key; a missing key is refused with a message that says what to set.
#   usage: azure_cli.sh /path/to/obagent      (OBAGENT_TEST_AZURITE: the Azurite account URL)
set -euo pipefail
OB=$1
[ -n "${OBAGENT_TEST_AZURITE:-}" ] || { echo "OBAGENT_TEST_AZURITE not set: skipped"; exit 77; }
KEY="Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
work=$(mktemp -d /tmp/obagent-azcli-XXXXXX)
trap '[ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
export OBAGENT_HOME=$work/home OBAGENT_SERVER_NAME=azcli-test
container=azcli-$$-$RANDOM
az=(--account devstoreaccount1 --container "$container" --endpoint "$OBAGENT_TEST_AZURITE")

# No key: refused before anything is made, naming the variable.
if out=$(env -u OBAGENT_OWNER_KEY "$OB" vault-create --name AzCli "${az[@]}" 2>&1); then
  echo "FAIL: vault-create without a key succeeded"; exit 1; fi
grep -q OBAGENT_OWNER_KEY <<<"$out" || { echo "FAIL: the refusal does not name OBAGENT_OWNER_KEY: $out"; exit 1; }

OBAGENT_OWNER_KEY=$KEY "$OB" vault-create --name AzCli "${az[@]}" >/dev/null
creds=$(OBAGENT_OWNER_KEY=$KEY "$OB" credentials "${az[@]}" --out "$work/creds" --days 2)
"$OB" register "$creds" >/dev/null
OBAGENT_PASSPHRASE='azure cli passphrase 12345' "$OB" passphrase >/dev/null
mkdir -p "$work/data/sub"
head -c $((3 * 1024 * 1024 + 17)) /dev/urandom >"$work/data/random.bin"
seq 1 200000 >"$work/data/sub/text.log"
"$OB" policy "$work/data" >/dev/null
"$OB" backup >/dev/null
point=$("$OB" points | head -1 | awk '{print $1}')
"$OB" restore --point "$point" --dest "$work/restore" --item "${work#/}/data" >/dev/null
diff -r "$work/data" "$work/restore$work/data" || { echo "FAIL: the restore differs"; exit 1; }
if grep -rqF "$KEY" "$work/home" "$work/creds"; then echo "FAIL: the account key is in the agent's files"; exit 1; fi
echo "azure_cli: backup and restore through the runner on an Azure vault OK"
