#!/usr/bin/env bash
# `obagent backup` prints MARS's eight lines in order (mars.md 1.4), as Start-OBBackup does: the
# seven phase lines, those of phases too short for its poll filled in, each once, then "The backup
# operation completed successfully."; a backup that fails at its snapshot prints no line of a
# phase it did not reach, and no success line.
#   usage: cli_progress.sh /path/to/obagent
set -euo pipefail
OB=$1
work=$(mktemp -d /tmp/obagent-cli-progress-XXXXXX)
trap '[ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
export OBAGENT_HOME=$work/home OBAGENT_SERVER_NAME=cli-progress-test
fail() { echo "FAIL: $*" >&2; exit 1; }

seq=(
  "Initializing"
  "Taking snapshot of volumes..."
  "Preparing storage..."
  "Generating backup metadata information and preparing the metadata VHD..."
  "Data transfer is in progress..."
  "Data transfer completed ... Verifying data integrity..."
  "Job completed."
)
# The lines of out that are MARS's (the phase lines, the success line, and the end texts of a failed
# or stopped job), in the order printed.
mars_lines() {
  grep -xF -e "${seq[0]}" -e "${seq[1]}" -e "${seq[2]}" -e "${seq[3]}" -e "${seq[4]}" -e "${seq[5]}" -e "${seq[6]}" \
    -e "The backup operation completed successfully." -e "Job failed." -e "Job stopped." "$1" || true
}

"$OB" vault-create --name CliProgress --path "$work/vault" >/dev/null
"$OB" register "$("$OB" credentials --vault "$work/vault" --out "$work/creds")" >/dev/null
OBAGENT_PASSPHRASE='cli progress test passphrase 1234' "$OB" passphrase >/dev/null
mkdir -p "$work/data"
echo small > "$work/data/a.txt"
"$OB" policy "$work/data" >/dev/null 2>&1

# A backup of one small file: too fast for the poll to see every phase, yet all eight lines, in order.
for run in 1 2 3; do
  echo "run $run" >> "$work/data/a.txt"
  "$OB" backup > "$work/ok$run.out" 2>"$work/ok$run.err" || fail "backup $run: exit $? ($(cat "$work/ok$run.err"))"
  printf '%s\n' "${seq[@]}" "The backup operation completed successfully." > "$work/want"
  mars_lines "$work/ok$run.out" > "$work/got"
  diff -u "$work/want" "$work/got" >&2 || fail "backup $run: not MARS's eight lines in order (above: - expected, + printed)"
  # The phase lines come first, before anything else the command prints.
  head -n 7 "$work/ok$run.out" | diff -u <(printf '%s\n' "${seq[@]}") - >&2 || fail "backup $run: the phase lines are not the first seven"
done

# Nothing left to back up: the job fails at its snapshot. Lines up to the snapshot at most, then "Job failed.".
rm -rf "$work/data"
rc=0; "$OB" backup > "$work/bad.out" 2>&1 || rc=$?
[ "$rc" = 1 ] || fail "backup with nothing to back up: exit $rc, expected 1"
mars_lines "$work/bad.out" > "$work/got"
[ "$(tail -n 1 "$work/got")" = "Job failed." ] || fail "the failed backup does not end with 'Job failed.': $(cat "$work/got")"
sed '$d' "$work/got" > "$work/got.phases"
n=$(wc -l < "$work/got.phases")
[ "$n" -le 2 ] || fail "the failed backup printed lines of phases after its snapshot: $(cat "$work/got.phases")"
head -n "$n" <(printf '%s\n' "${seq[@]}") | diff -u - "$work/got.phases" >&2 || fail "the failed backup's lines are not the start of the sequence"
grep -qF "The backup operation completed successfully." "$work/bad.out" && fail "a failed backup printed the success line"
echo "ok"
