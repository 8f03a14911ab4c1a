#!/usr/bin/env bash
# Capture this machine, then Restore-SystemState.sh must find nothing to change
# (dry run, and --apply as root does nothing); on an edited copy of the capture
# it must list exactly the edits; packages in a transient dpkg state (half-configured,
# triggers-pending) are installed on either side, and an extra package is removed
# only with --remove-extra-packages; a capture of another distribution is refused.
#   test_reapply.sh <test_systemstate binary> <Restore-SystemState.sh>
set -euo pipefail
BIN=$1 SCRIPT=$2
T=$(mktemp -d "${TMPDIR:-/tmp}/ob-reapply.XXXXXX")
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

"$BIN" --capture "$T/cap"
[ -f "$T/cap/manifest.json" ] || fail "no manifest.json in the capture"

echo "== dry run against the machine it was captured from"
bash "$SCRIPT" --dry-run "$T/cap" >"$T/out" 2>"$T/err" || { cat "$T/out" "$T/err"; fail "dry run exited $?"; }
cat "$T/out"
[ "$(tail -n 1 "$T/out")" = "No changes." ] || fail "the dry run found changes on the same machine"

if [ "$(id -u)" = 0 ]; then
	echo "== --apply with nothing to change"
	bash "$SCRIPT" --apply "$T/cap" >"$T/out" 2>"$T/err" || { cat "$T/out" "$T/err"; fail "apply exited $?"; }
	[ "$(tail -n 1 "$T/out")" = "No changes." ] || { cat "$T/out"; fail "apply changed something"; }
fi

if [ -f "$T/cap/packages/dpkg.tsv" ] && [ -f /var/lib/dpkg/status ]; then
	echo "== packages in a transient dpkg state count as installed, on either side"
	# Two installed packages of this machine, put half-configured and triggers-pending
	# in a copy of its dpkg database (DPKG_ADMINDIR), the way an apt run leaves them.
	# (awk, not head, takes the first two: head would exit early, and under pipefail the SIGPIPE that
	# sort gets then, when its output passes a pipe buffer on a busy machine, ends the test unexplained)
	pkgs=$(awk -F'\t' '$4 == "ii " { print $1 }' "$T/cap/packages/dpkg.tsv" | sort -u | awk 'NR <= 2')
	[ "$(echo "$pkgs" | wc -l)" = 2 ] || fail "the capture lists fewer than two installed dpkg packages"
	p1=$(echo "$pkgs" | sed -n 1p) p2=$(echo "$pkgs" | sed -n 2p)
	mkdir -p "$T/dpkg/updates" "$T/dpkg/info"
	awk -v p1="$p1" -v p2="$p2" '
		/^Package: / { pkg = substr($0, 10) }
		/^$/ { pkg = "" }
		pkg == p1 && $0 == "Status: install ok installed" { print "Status: install ok half-configured"; next }
		pkg == p2 && $0 == "Status: install ok installed" { print "Status: install ok triggers-pending"; print "Triggers-Pending: obagent-test"; next }
		{ print }' /var/lib/dpkg/status >"$T/dpkg/status"
	st=$(DPKG_ADMINDIR="$T/dpkg" dpkg-query -W --showformat='${db:Status-Abbrev}\n' "$p1" "$p2" | sort -u | tr '\n' ,)
	[ "$st" = "iF ,it ," ] || fail "the copy of the dpkg database does not hold the transient states ($st)"
	# This machine transient, the capture not.
	DPKG_ADMINDIR="$T/dpkg" bash "$SCRIPT" --dry-run --no-etc --no-units "$T/cap" >"$T/out" 2>"$T/err" ||
		{ cat "$T/out" "$T/err"; fail "dry run against the transient database exited $?"; }
	[ "$(tail -n 1 "$T/out")" = "No changes." ] || { cat "$T/out"; fail "a package being configured here counts as missing"; }
	grep -qF "$p1:" "$T/err" && grep -q "not fully installed.*dpkg --configure -a" "$T/err" ||
		{ cat "$T/err"; fail "no warning about the half-configured $p1"; }
	# The capture transient (taken during an apt run), this machine not.
	cp -a "$T/cap" "$T/tr"
	awk -F'\t' -v OFS='\t' -v p1="$p1" -v p2="$p2" '$1 == p1 { $4 = "iF " } $1 == p2 { $4 = "it " } { print }' \
		"$T/cap/packages/dpkg.tsv" >"$T/tr/packages/dpkg.tsv"
	bash "$SCRIPT" --dry-run --no-etc --no-units "$T/tr" >"$T/out" 2>"$T/err" ||
		{ cat "$T/out" "$T/err"; fail "dry run of the transient capture exited $?"; }
	[ "$(tail -n 1 "$T/out")" = "No changes." ] || { cat "$T/out"; fail "a package captured while being configured is planned for removal"; }

	echo "== an extra package is removed only with --remove-extra-packages"
	printf '\nPackage: obagent-extra-pkg\nStatus: install ok installed\nPriority: optional\nSection: misc\nMaintainer: obagent tests\nArchitecture: all\nVersion: 1.0-1\nDescription: obagent test package\n' >>"$T/dpkg/status"
	DPKG_ADMINDIR="$T/dpkg" bash "$SCRIPT" --dry-run --no-etc --no-units "$T/cap" >"$T/out" 2>"$T/err" ||
		{ cat "$T/out" "$T/err"; fail "dry run with an extra package exited $?"; }
	cat "$T/out"
	[ "$(tail -n 1 "$T/out")" = "No changes." ] || fail "an extra package is planned for removal without --remove-extra-packages"
	grep -qF "extra package obagent-extra-pkg:all 1.0-1 (not in the capture; --remove-extra-packages)" "$T/out" ||
		fail "the extra package is not listed as left alone"
	DPKG_ADMINDIR="$T/dpkg" bash "$SCRIPT" --dry-run --remove-extra-packages --no-etc --no-units "$T/cap" >"$T/out" 2>"$T/err" ||
		{ cat "$T/out" "$T/err"; fail "dry run with --remove-extra-packages exited $?"; }
	cat "$T/out"
	grep -qF "  remove     obagent-extra-pkg:all 1.0-1" "$T/out" || fail "--remove-extra-packages does not plan the removal"
	[ "$(grep -c '^  remove ' "$T/out")" = 1 ] || fail "--remove-extra-packages plans more than the extra package"
	[ "$(tail -n 1 "$T/out")" = "1 change(s) would be made. Run with --apply to make them." ] || fail "wrong summary line"
	if [ "$(id -u)" = 0 ]; then
		if DPKG_ADMINDIR="$T/dpkg" bash "$SCRIPT" --apply "$T/cap" >"$T/out" 2>"$T/err"; then
			fail "--apply of packages compared with another dpkg database was not refused"
		fi
		grep -qF "DPKG_ADMINDIR is set" "$T/err" || { cat "$T/err"; fail "no clear refusal of DPKG_ADMINDIR with --apply"; }
	fi
fi

echo "== an edited copy of the capture (the machine is not touched: dry run)"
cp -a "$T/cap" "$T/ed"
expect=()
chmod u+w "$T/ed/etc/hosts"; echo "# edited" >>"$T/ed/etc/hosts"; expect+=("change     /etc/hosts (content)")
echo "x=1" >"$T/ed/etc/obagent-test-added.conf"; chmod 0644 "$T/ed/etc/obagent-test-added.conf"
expect+=("add        /etc/obagent-test-added.conf")
for f in issue.net issue host.conf debian_version nsswitch.conf; do
	if [ -f "$T/ed/etc/$f" ] && [ ! -L "$T/ed/etc/$f" ]; then
		rm "$T/ed/etc/$f"; expect+=("/etc/$f (not in the capture; --delete-extra)"); break
	fi
done
if [ -f "$T/ed/etc/machine-id" ]; then rm -f "$T/ed/etc/machine-id"; echo 0123456789abcdef0123456789abcdef >"$T/ed/etc/machine-id"; expect+=("/etc/machine-id (--include-identity)"); fi
if [ -f "$T/ed/packages/dpkg.tsv" ]; then
	printf 'obagent-test-pkg\t1.0-1\tall\tii \n' >>"$T/ed/packages/dpkg.tsv"; expect+=("install    obagent-test-pkg:all 1.0-1")
fi
if [ -f "$T/ed/systemd/unit-files.txt" ]; then
	unit=$(awk '$2 == "disabled" { print $1; exit }' "$T/ed/systemd/unit-files.txt")
	if [ -n "$unit" ]; then
		awk -v u="$unit" '$1 == u { $2 = "masked" } { print }' "$T/ed/systemd/unit-files.txt" >"$T/u" && mv "$T/u" "$T/ed/systemd/unit-files.txt"
		expect+=("mask       $unit (now disabled)")
	fi
fi
bash "$SCRIPT" "$T/ed" >"$T/out" 2>"$T/err" || { cat "$T/out" "$T/err"; fail "dry run of the edited copy exited $?"; }
cat "$T/out"
for line in "${expect[@]}"; do
	grep -qF -- "$line" "$T/out" || fail "the dry run does not list: $line"
done
n=$(grep -c '^  \(install\|remove\|version\|mark\|add\|change\|enable\|disable\|mask\) ' "$T/out" || true)
want=$(printf '%s\n' "${expect[@]}" | grep -vc '(--\|not in the capture' || true)
[ "$n" = "$want" ] || fail "the dry run lists $n changes, expected $want"
[ "$(tail -n 1 "$T/out")" = "$want change(s) would be made. Run with --apply to make them." ] || fail "wrong summary line"

# --apply for real, only where /etc is disposable (a container, or asked for), and only
# with new names of our own under /etc, removed at the end.
if [ "$(id -u)" = 0 ] && { [ -f /.dockerenv ] || [ -f /run/.containerenv ] || [ "${OBAGENT_TEST_REAPPLY_APPLY:-0}" = 1 ]; }; then
	echo "== --apply of /etc additions, twice"
	D=/etc/obagent-reapply-test.d
	[ ! -e "$D" ] || fail "$D exists already"
	trap 'rm -rf "$T" "$D"' EXIT
	cp -a "$T/cap" "$T/ap"
	mkdir "$T/ap/etc/obagent-reapply-test.d"
	echo "a=1" >"$T/ap/etc/obagent-reapply-test.d/a.conf"
	ln -s a.conf "$T/ap/etc/obagent-reapply-test.d/link.conf"
	chmod 0640 "$T/ap/etc/obagent-reapply-test.d/a.conf"
	chmod 0750 "$T/ap/etc/obagent-reapply-test.d"
	chown 0:0 -R "$T/ap/etc/obagent-reapply-test.d"
	bash "$SCRIPT" --apply --no-packages --no-units "$T/ap" >"$T/out" 2>"$T/err" || { cat "$T/out" "$T/err"; fail "apply exited $?"; }
	cat "$T/out"
	[ "$(stat -c %a "$D")" = 750 ] && [ "$(stat -c %a "$D/a.conf")" = 640 ] && [ "$(cat "$D/a.conf")" = "a=1" ] &&
		[ "$(readlink "$D/link.conf")" = a.conf ] || fail "apply did not create $D as captured"
	for mode in --dry-run --apply; do
		bash "$SCRIPT" "$mode" --no-packages --no-units "$T/ap" >"$T/out" 2>"$T/err" || { cat "$T/out" "$T/err"; fail "$mode exited $?"; }
		[ "$(tail -n 1 "$T/out")" = "No changes." ] || { cat "$T/out"; fail "$mode after apply is not \"No changes.\""; }
	done
	bash "$SCRIPT" --dry-run --no-packages --no-units "$T/cap" >"$T/out" 2>"$T/err"
	grep -qF "extra /etc/obagent-reapply-test.d/a.conf (not in the capture; --delete-extra)" "$T/out" || { cat "$T/out"; fail "no extra listed"; }
	rm -rf "$D"
fi

echo "== a capture of another distribution"
sed -i 's/^    "ID": ".*"/    "ID": "otherlinux"/' "$T/cap/manifest.json"
bash "$SCRIPT" --dry-run "$T/cap" >"$T/out" 2>"$T/err" || fail "a dry run must not refuse"
grep -q "the capture is of otherlinux" "$T/err" || fail "no warning about the distribution"
if [ "$(id -u)" = 0 ]; then
	if bash "$SCRIPT" --apply "$T/cap" >"$T/out" 2>"$T/err"; then fail "apply accepted another distribution"; fi
	grep -q "refusing to apply it (--force" "$T/err" || { cat "$T/err"; fail "no clear refusal"; }
fi
echo "PASS"
