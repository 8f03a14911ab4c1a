#!/usr/bin/env bash
# Restore-SystemState.sh: re-apply an obagent System State capture to this machine.
#
# Step 2 of a System State restore (docs/SYSTEMSTATE.md). Step 1 restored the
# capture as files with Start-OBRecovery; this script compares that folder (the
# one holding manifest.json) with this machine and, with --apply, makes this
# machine match it: packages, /etc, systemd unit states.
#
#   Restore-SystemState.sh [--dry-run | --apply] [options] <capture-folder>
#
#   --dry-run            (default) print what would change; change nothing
#   --apply              make the changes (as root)
#   --include-identity   also /etc/machine-id, /etc/hostname, /etc/ssh/ssh_host_*
#   --include-storage    also /etc/fstab, /etc/crypttab, /etc/mdadm
#   --include-accounts   also /etc/passwd, group, shadow, gshadow, subuid, subgid
#   --delete-extra       with --apply: remove /etc files the capture does not have
#   --remove-extra-packages  with --apply: remove packages the capture does not have
#   --no-packages | --no-etc | --no-units   leave that part alone
#   --force              apply even when the distribution or its version differs
#
# Exit status: 0 when the comparison (and the changes, with --apply) succeeded,
# 1 on an error, 2 on bad usage. The last line is "No changes." when this
# machine already matches the capture. Running --apply twice changes nothing
# the second time. A package counts as installed in every dpkg state but
# not-installed and config-files (half-configured, triggers-pending, held ...
# are installed), on both sides; extra packages are removed only when asked.
# DPKG_ADMINDIR (as dpkg reads it) compares with another dpkg database; --apply
# of packages then refuses, since apt-get would change this machine's.
set -euo pipefail
export LC_ALL=C

MODE=dry-run
FORCE=0 INC_IDENTITY=0 INC_STORAGE=0 INC_ACCOUNTS=0 DELETE_EXTRA=0 REMOVE_PACKAGES=0
DO_PACKAGES=1 DO_ETC=1 DO_UNITS=1
CAPTURE=""
CHANGES=0
ETC=/etc

die() { echo "Restore-SystemState: $*" >&2; exit 1; }
warn() { echo "warning: $*" >&2; }
usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 2; }

while [ $# -gt 0 ]; do
	case "$1" in
	--dry-run) MODE=dry-run ;;
	--apply) MODE=apply ;;
	--force) FORCE=1 ;;
	--include-identity) INC_IDENTITY=1 ;;
	--include-storage) INC_STORAGE=1 ;;
	--include-accounts) INC_ACCOUNTS=1 ;;
	--delete-extra) DELETE_EXTRA=1 ;;
	--remove-extra-packages) REMOVE_PACKAGES=1 ;;
	--no-packages) DO_PACKAGES=0 ;;
	--no-etc) DO_ETC=0 ;;
	--no-units) DO_UNITS=0 ;;
	-h|--help) usage ;;
	-*) echo "Unknown option: $1" >&2; usage ;;
	*) [ -z "$CAPTURE" ] || { echo "Only one capture folder, please." >&2; usage; }; CAPTURE=$1 ;;
	esac
	shift
done
[ -n "$CAPTURE" ] || usage
CAPTURE=${CAPTURE%/}
MANIFEST="$CAPTURE/manifest.json"
[ -f "$MANIFEST" ] || die "'$CAPTURE' holds no manifest.json: give the folder of a restored System State capture (the one with manifest.json, etc/, packages/)."
grep -q '"format": "obagent-systemstate"' "$MANIFEST" || die "'$MANIFEST' is not an obagent System State manifest."
grep -q '"format_version": 1,' "$MANIFEST" || die "'$MANIFEST' has a format version this script does not know (it knows 1)."
if [ "$MODE" = apply ] && [ "$(id -u)" != 0 ]; then
	die "--apply changes packages, /etc and systemd: run it as root."
fi
if [ "$MODE" = apply ] && [ "$DO_PACKAGES" = 1 ] && [ -n "${DPKG_ADMINDIR:-}" ]; then
	die "DPKG_ADMINDIR is set: packages were compared with '$DPKG_ADMINDIR', not with what apt-get would change. Unset it, or pass --no-packages."
fi
[ "$(id -u)" = 0 ] || warn "not root: files only root may read are compared as far as they can be."

WORK=$(mktemp -d "${TMPDIR:-/tmp}/restore-systemstate.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

# ------------------------------------------------------------ the manifest

# A string field of the manifest's os_release object (written one key per line).
manifest_os() {
	sed -n '/^  "os_release": {/,/^  }/p' "$MANIFEST" |
		sed -n "s/^    \"$1\": \"\\(.*\\)\",\\{0,1\\}\$/\\1/p" | head -n 1
}
manifest_field() { sed -n "s/^  \"$1\": \"\\{0,1\\}\\([^\",]*\\)\"\\{0,1\\},\\{0,1\\}\$/\\1/p" "$MANIFEST" | head -n 1; }

CAP_ID=$(manifest_os ID)
CAP_VERSION=$(manifest_os VERSION_ID)
CAP_HOST=$(manifest_field host_name)
CAP_TIME=$(manifest_field capture_time)
OWNERS=$(manifest_field owners_preserved)
if [ -r /etc/os-release ]; then
	CUR_ID=$( . /etc/os-release; echo "${ID:-}")
	CUR_VERSION=$( . /etc/os-release; echo "${VERSION_ID:-}")
else
	CUR_ID="" CUR_VERSION=""
fi

echo "System State capture: $CAPTURE"
echo "  captured $CAP_TIME on '$CAP_HOST' ($CAP_ID $CAP_VERSION); this machine: $CUR_ID $CUR_VERSION"
if [ "$CAP_ID" != "$CUR_ID" ] || [ "$CAP_VERSION" != "$CUR_VERSION" ]; then
	if [ "$MODE" = apply ] && [ "$FORCE" != 1 ]; then
		die "the capture is of $CAP_ID $CAP_VERSION but this machine runs $CUR_ID $CUR_VERSION: refusing to apply it (--force to apply anyway)."
	fi
	warn "the capture is of $CAP_ID $CAP_VERSION but this machine runs $CUR_ID $CUR_VERSION."
fi
[ "$OWNERS" = true ] || warn "the capture was made without root: file owners were not recorded and are not compared."
[ "$MODE" = apply ] && echo "Mode: apply" || echo "Mode: dry run (nothing is changed; --apply to make these changes)"

# One change: counted, printed; in apply mode the caller then makes it.
change() { CHANGES=$((CHANGES + 1)); printf '  %-10s %s\n' "$1" "$2"; }

# ------------------------------------------------------------ packages

PKG_TOOL=none
if [ -f "$CAPTURE/packages/dpkg.tsv" ]; then
	PKG_TOOL=dpkg
	command -v dpkg-query >/dev/null || die "the capture lists dpkg packages but this machine has no dpkg-query."
elif [ -f "$CAPTURE/packages/rpm.tsv" ]; then
	PKG_TOOL=rpm
	command -v rpm >/dev/null || die "the capture lists rpm packages but this machine has no rpm."
fi

# "key<TAB>version" of installed packages, sorted; key = name:arch (dpkg) or name.arch (rpm).
# A dpkg package is installed in every status (the second letter of db:Status-Abbrev,
# "ii ", "iF ", "it ", "hi "...) but n (not-installed) and c (config-files): one in the
# middle of its configuration or with triggers pending is there, so that a capture
# taken then matches the machine a moment later.
captured_packages() {
	case $PKG_TOOL in
	dpkg) awk -F'\t' '{ s = substr($4, 2, 1) } s != "" && s != "n" && s != "c" { print $1 ":" $3 "\t" $2 }' "$CAPTURE/packages/dpkg.tsv" ;;
	rpm) awk -F'\t' '{ print $1 "." $3 "\t" $2 }' "$CAPTURE/packages/rpm.tsv" ;;
	esac | sort -u -t "$(printf '\t')" -k1,1
}
current_packages() {
	case $PKG_TOOL in
	dpkg) dpkg-query -W --showformat='${Package}:${Architecture}\t${Version}\t${db:Status-Abbrev}\n' >"$WORK/dpkg.cur"
		awk -F'\t' '{ s = substr($3, 2, 1) } s != "" && s != "n" && s != "c" { print $1 "\t" $2 }' "$WORK/dpkg.cur" ;;
	rpm) rpm -qa --qf '%{NAME}.%{ARCH}\t%|EPOCH?{%{EPOCH}:}:{}|%{VERSION}-%{RELEASE}\n' ;;
	esac | sort -u -t "$(printf '\t')" -k1,1
}

# "install|remove|extra|version<TAB>key<TAB>captured version<TAB>current version"
# A package this machine has and the capture lacks is "extra" (left alone) unless
# --remove-extra-packages makes it "remove".
package_plan() {
	captured_packages >"$WORK/pkg.cap"
	current_packages >"$WORK/pkg.cur"
	awk -F'\t' -v OFS='\t' -v extra="$([ "$REMOVE_PACKAGES" = 1 ] && echo remove || echo extra)" '
		NR == FNR { cap[$1] = $2; next }
		{ cur[$1] = $2 }
		END {
			for (k in cap) {
				if (!(k in cur)) print "install", k, cap[k], "-"
				else if (cur[k] != cap[k]) print "version", k, cap[k], cur[k]
			}
			for (k in cur) if (!(k in cap)) print extra, k, "-", cur[k]
		}' "$WORK/pkg.cap" "$WORK/pkg.cur" | sort -t "$(printf '\t')" -k1,1 -k2,2
}

# The package's install name: dpkg drops the native or "all" architecture.
dpkg_name() {
	local key=$1 name=${1%:*} arch=${1##*:}
	if [ "$arch" = all ] || [ "$arch" = "$(dpkg --print-architecture)" ]; then echo "$name"; else echo "$key"; fi
}

mark_plan() {
	[ "$PKG_TOOL" = dpkg ] && [ -f "$CAPTURE/packages/apt-manual.txt" ] && command -v apt-mark >/dev/null || return 0
	sort -u "$CAPTURE/packages/apt-manual.txt" >"$WORK/manual.cap"
	apt-mark showmanual | sort -u >"$WORK/manual.cur"
	# Only packages installed here are marked; the rest are installs above. Only packages
	# the capture has become automatic: an extra one marked so would go with the next
	# "apt-get autoremove", a removal nobody asked for.
	awk -F'\t' '{ k = $1; sub(/:[^:]*$/, "", k); print k; print $1 }' "$WORK/pkg.cur" | sort -u >"$WORK/installed"
	awk -F'\t' '{ k = $1; sub(/:[^:]*$/, "", k); print k; print $1 }' "$WORK/pkg.cap" | sort -u >"$WORK/captured"
	comm -23 "$WORK/manual.cap" "$WORK/manual.cur" | comm -12 - "$WORK/installed" | sed 's/^/manual\t/'
	comm -13 "$WORK/manual.cap" "$WORK/manual.cur" | comm -12 - "$WORK/captured" | sed 's/^/auto\t/'
}

apply_packages() {
	local kind key cap cur name ok
	local -a install=() remove=()
	if [ "$PKG_TOOL" = dpkg ]; then
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -q >/dev/null || warn "apt-get update failed; installing from what apt knows."
	fi
	while IFS=$'\t' read -r kind key cap cur; do
		case "$PKG_TOOL:$kind" in
		dpkg:install|dpkg:version)
			name=$(dpkg_name "$key")
			if apt-cache show "$name=$cap" >/dev/null 2>&1; then install+=("$name=$cap")
			elif [ "$kind" = install ]; then warn "$key $cap is not available: installing the version apt offers."; install+=("$name")
			else warn "$key $cap is not available: keeping $cur."; fi ;;
		dpkg:remove) remove+=("$(dpkg_name "$key")") ;;
		rpm:install|rpm:version) install+=("${key%.*}-$cap.${key##*.}") ;;
		rpm:remove) remove+=("$key") ;;
		esac
	done <"$WORK/pkg.plan"
	case $PKG_TOOL in
	dpkg)
		if [ ${#install[@]} -gt 0 ]; then
			apt-get install -y -q --allow-downgrades -o Dpkg::Options::=--force-confdef \
				-o Dpkg::Options::=--force-confold "${install[@]}"
		fi
		if [ ${#remove[@]} -gt 0 ]; then apt-get remove -y -q "${remove[@]}"; fi
		# Manual/automatic marks as captured (installs above became manual).
		mark_plan >"$WORK/mark.plan"
		ok=$(awk -F'\t' '$1 == "manual" { print $2 }' "$WORK/mark.plan")
		[ -z "$ok" ] || apt-mark manual $ok >/dev/null
		ok=$(awk -F'\t' '$1 == "auto" { print $2 }' "$WORK/mark.plan")
		[ -z "$ok" ] || apt-mark auto $ok >/dev/null
		;;
	rpm)
		for name in "${install[@]}"; do dnf -y -q install "$name" || dnf -y -q downgrade "$name" || warn "cannot install $name"; done
		if [ ${#remove[@]} -gt 0 ]; then dnf -y -q remove "${remove[@]}"; fi
		;;
	esac
}

# ------------------------------------------------------------ /etc

# "path<TAB>type<TAB>mode<TAB>uid<TAB>gid<TAB>size<TAB>link" of a tree, sorted by path.
list_tree() {
	(cd "$1" && find . -mindepth 1 \( -type f -o -type d -o -type l \) \
		-printf '%P\t%y\t%m\t%U\t%G\t%s\t%l\n' 2>/dev/null || true) | sort -t "$(printf '\t')" -k1,1
}

# Paths (relative to /etc) left alone unless asked for.
SKIP_ALWAYS='mtab|ld\.so\.cache|\.pwd\.lock|.*\.dpkg-(old|new|dist|tmp)|.*\.rpm(new|save|orig)'
SKIP_IDENTITY='machine-id|hostname|ssh/ssh_host_[^/]*'
SKIP_STORAGE='fstab|crypttab|mdadm|mdadm/.*|mdadm\.conf'
SKIP_ACCOUNTS='(passwd|group|shadow|gshadow|subuid|subgid)-?'

# "add|change|remove<TAB>path<TAB>type<TAB>detail or -<TAB>excluded-by" for /etc
# (no empty field before the last: read with IFS=tab would merge it).
etc_plan() {
	local skip_re="^($SKIP_ALWAYS)\$" owners=0
	[ "$INC_IDENTITY" = 1 ] || skip_re="$skip_re|^($SKIP_IDENTITY)\$"
	[ "$INC_STORAGE" = 1 ] || skip_re="$skip_re|^($SKIP_STORAGE)\$"
	[ "$INC_ACCOUNTS" = 1 ] || skip_re="$skip_re|^($SKIP_ACCOUNTS)\$"
	[ "$OWNERS" = true ] && owners=1
	list_tree "$CAPTURE/etc" >"$WORK/etc.cap"
	list_tree "$ETC" >"$WORK/etc.cur"
	# Files the capture could not read (unreadable.tsv) are not compared, nor what is under them.
	{ [ -f "$CAPTURE/unreadable.tsv" ] && cut -f1 "$CAPTURE/unreadable.tsv" || true; } |
		sed -n 's|^/etc/||p' >"$WORK/unread"
	awk -F'\t' -v OFS='\t' -v owners="$owners" -v skip_re="$skip_re" \
	    -v id_re="^($SKIP_IDENTITY)\$" -v st_re="^($SKIP_STORAGE)\$" -v ac_re="^($SKIP_ACCOUNTS)\$" '
		function why(p) {
			if (p ~ id_re) return "--include-identity"
			if (p ~ st_re) return "--include-storage"
			if (p ~ ac_re) return "--include-accounts"
			return "generated"
		}
		function skipped(p,   q) {
			for (q in unread) if (p == q || index(p, q "/") == 1) return "unreadable"
			return p ~ skip_re ? why(p) : ""
		}
		FILENAME == ARGV[1] { unread[$1] = 1; next }
		FILENAME == ARGV[2] { n++; path[n] = $1; t[$1] = $2; m[$1] = $3; u[$1] = $4; g[$1] = $5; s[$1] = $6; l[$1] = $7; next }
		{ cur[$1] = $2 "\t" $3 "\t" $4 "\t" $5 "\t" $6 "\t" $7
		  if (!($1 in t)) print "remove", $1, $2, "-", skipped($1) }
		END {
			for (i = 1; i <= n; i++) {
				p = path[i]; x = skipped(p)
				if (!(p in cur)) { print "add", p, t[p], "-", x; continue }
				split(cur[p], c, "\t"); d = ""
				if (c[1] != t[p]) d = "type " c[1] " -> " t[p]
				else {
					if (t[p] == "l" && c[6] != l[p]) d = "link " c[6] " -> " l[p]
					if (t[p] != "l" && c[2] != m[p]) d = d (d ? ", " : "") "mode " c[2] " -> " m[p]
					if (owners && (c[3] != u[p] || c[4] != g[p])) d = d (d ? ", " : "") "owner " c[3] ":" c[4] " -> " u[p] ":" g[p]
					if (t[p] == "f" && c[5] != s[p]) d = d (d ? ", " : "") "content"
					else if (t[p] == "f" && d == "") { print "cmp", p, t[p], "-", x; continue }
				}
				if (d != "") print "change", p, t[p], d, x
			}
		}' "$WORK/unread" "$WORK/etc.cap" "$WORK/etc.cur" >"$WORK/etc.raw"
	# Same size and metadata: compare the bytes, hashing each side in one batch.
	awk -F'\t' '$1 == "cmp" { printf "%s%c", $2, 0 }' "$WORK/etc.raw" >"$WORK/cmp.list"
	(cd "$CAPTURE/etc" && xargs -0 -r sha256sum -- <"$WORK/cmp.list" 2>/dev/null || true) >"$WORK/cmp.cap"
	(cd "$ETC" && xargs -0 -r sha256sum -- <"$WORK/cmp.list" 2>/dev/null || true) >"$WORK/cmp.cur"
	awk -F'\t' -v OFS='\t' '
		FILENAME == ARGV[1] { h = substr($0, 1, 64); cap[substr($0, 67)] = h; next }
		FILENAME == ARGV[2] { h = substr($0, 1, 64); cur[substr($0, 67)] = h; next }
		$1 == "cmp" { if (($2 in cap) && ($2 in cur) && cap[$2] == cur[$2]) next; $1 = "change"; $4 = "content" }
		{ print }' "$WORK/cmp.cap" "$WORK/cmp.cur" "$WORK/etc.raw" | sort -t "$(printf '\t')" -k2,2
}

# Set owner and mode of /etc/p from the capture's entry.
set_meta() {
	local p=$1 type mode uid gid
	IFS=$'\t' read -r type mode uid gid < <(awk -F'\t' -v p="$p" -v OFS='\t' '$1 == p { print $2, $3, $4, $5; exit }' "$WORK/etc.cap")
	if [ "$OWNERS" = true ]; then chown -h "$uid:$gid" "$ETC/$p"; fi
	[ "$type" = l ] || chmod "$mode" "$ETC/$p"
}

apply_etc_entry() {
	local kind=$1 p=$2 type=$3 tmp
	case "$kind:$type" in
	remove:*) rm -rf -- "${ETC:?}/$p" ;;
	*:d)
		[ -d "$ETC/$p" ] && [ ! -L "$ETC/$p" ] || { rm -f -- "${ETC:?}/$p"; mkdir -p -- "$ETC/$p"; }
		set_meta "$p" ;;
	*)
		# Copy beside, then rename over: no moment without the file.
		tmp="$(dirname -- "$ETC/$p")/.restore-systemstate.$$"
		rm -rf -- "$tmp"
		cp -P --preserve=mode,timestamps,xattr -- "$CAPTURE/etc/$p" "$tmp"
		if [ -d "$ETC/$p" ] && [ ! -L "$ETC/$p" ]; then rm -rf -- "${ETC:?}/$p"; fi
		mv -fT -- "$tmp" "$ETC/$p"
		set_meta "$p" ;;
	esac
}

# Apply the /etc plan: $1 "copy" (adds and changes whose path matches the regex $2)
# or "remove" (extras, deepest first). Excluded entries are left alone.
apply_etc() {
	local what=$1 re=${2:-} kind p type detail skip
	while IFS=$'\t' read -r kind p type detail skip; do
		[ -z "$skip" ] || continue
		apply_etc_entry "$kind" "$p" "$type"
	done < <(awk -F'\t' -v what="$what" -v re="$re" \
		'(what == "remove") == ($1 == "remove") && (re == "" || $2 ~ re)' "$WORK/etc.plan" |
		{ if [ "$what" = remove ]; then sort -r -t "$(printf '\t')" -k2,2; else cat; fi; })
}

# ------------------------------------------------------------ systemd

SYSTEMD_OK=0
if [ -f "$CAPTURE/systemd/unit-files.txt" ] && command -v systemctl >/dev/null; then SYSTEMD_OK=1; fi

# "enable|disable|mask<TAB>unit<TAB>current state"
unit_plan() {
	systemctl list-unit-files --no-pager --plain --no-legend 2>/dev/null | awk '{ print $1 "\t" $2 }' >"$WORK/units.cur" || true
	awk -v OFS='\t' '
		NR == FNR { cur[$1] = $2; next }
		$1 ~ /@\./ { next }    # templates: their instances come with /etc/systemd
		$2 == "enabled" || $2 == "disabled" || $2 == "masked" {
			now = ($1 in cur) ? cur[$1] : "absent"
			if (now == $2) next
			if ($2 == "disabled" && now != "enabled" && now != "masked") next   # static, indirect...: nothing to undo
			verb = ($2 == "enabled") ? "enable" : ($2 == "masked") ? "mask" : "disable"
			print verb, $1, now
		}' FS='\t' "$WORK/units.cur" FS=' ' "$CAPTURE/systemd/unit-files.txt" | sort -t "$(printf '\t')" -k2,2
}

apply_units() {
	local verb unit now
	while IFS=$'\t' read -r verb unit now; do
		if [ "$now" = masked ] && [ "$verb" != mask ]; then systemctl unmask "$unit" >/dev/null; fi
		systemctl "$verb" "$unit" >/dev/null 2>&1 || warn "systemctl $verb $unit failed (is its package installed?)."
	done < <(unit_plan)
	if [ -d /run/systemd/system ]; then systemctl daemon-reload; fi
}

# ------------------------------------------------------------ compare (and apply)

if [ "$DO_PACKAGES" = 1 ] && [ "$PKG_TOOL" != none ]; then
	echo "Packages ($PKG_TOOL):"
	package_plan >"$WORK/pkg.plan"
	before=$CHANGES
	left=""
	while IFS=$'\t' read -r kind key cap cur; do
		case $kind in
		install) change install "$key $cap" ;;
		remove) change remove "$key $cur" ;;
		extra) left="$left    extra package $key $cur (not in the capture; --remove-extra-packages)"$'\n' ;;
		version) change version "$key $cur -> $cap" ;;
		esac
	done <"$WORK/pkg.plan"
	mark_plan >"$WORK/mark.plan"
	while IFS=$'\t' read -r kind key; do change "mark $kind" "$key"; done <"$WORK/mark.plan"
	[ "$CHANGES" -gt "$before" ] || echo "  (match the capture)"
	[ -z "$left" ] || printf 'Left alone (differ, but excluded):\n%s' "$left"
	if [ "$PKG_TOOL" = dpkg ]; then
		# Counted as installed, but dpkg has not finished with them.
		awk -F'\t' -v OFS='\t' '{ s = substr($3, 2, 1) }
			(s != "" && s != "n" && s != "c" && s != "i") || substr($3, 3, 1) == "R" { sub(/ +$/, "", $3); print $1, $3 }' \
			"$WORK/dpkg.cur" | while IFS=$'\t' read -r key st; do
			warn "$key is not fully installed on this machine (dpkg status '$st'): 'dpkg --configure -a' finishes it."
		done
	fi
elif [ "$DO_PACKAGES" = 1 ]; then
	echo "Packages: the capture lists none (no packages/dpkg.tsv or packages/rpm.tsv)."
fi

if [ "$DO_ETC" = 1 ]; then
	echo "/etc files:"
	etc_plan >"$WORK/etc.plan"
	before=$CHANGES
	left=""
	while IFS=$'\t' read -r kind p type detail skip; do
		if [ -n "$skip" ]; then
			[ "$kind" != remove ] || kind=extra
			[ "$skip" != unreadable ] || skip="could not be read when captured"
			left="$left    $kind /etc/$p ($skip)"$'\n'
		elif [ "$kind" = remove ] && [ "$DELETE_EXTRA" != 1 ]; then
			left="$left    extra /etc/$p (not in the capture; --delete-extra)"$'\n'
		else
			[ "$detail" != - ] || detail=""
			change "$kind" "/etc/$p${detail:+ ($detail)}"
		fi
	done <"$WORK/etc.plan"
	[ "$CHANGES" -gt "$before" ] || echo "  (match the capture)"
	[ -z "$left" ] || printf 'Left alone (differ, but excluded):\n%s' "$left"
fi

if [ "$DO_UNITS" = 1 ] && [ "$SYSTEMD_OK" = 1 ]; then
	echo "systemd units:"
	before=$CHANGES
	while IFS=$'\t' read -r verb unit now; do change "$verb" "$unit (now $now)"; done < <(unit_plan)
	[ "$CHANGES" -gt "$before" ] || echo "  (match the capture)"
fi

if [ "$MODE" = apply ] && [ "$CHANGES" -gt 0 ]; then
	echo "Applying..."
	if [ "$DO_ETC" = 1 ]; then apply_etc copy '^apt(/|$)'; fi     # the captured package sources first
	if [ "$DO_PACKAGES" = 1 ] && [ "$PKG_TOOL" != none ]; then apply_packages; fi
	if [ "$DO_ETC" = 1 ]; then
		etc_plan >"$WORK/etc.plan"                                  # packages changed /etc: compare again
		apply_etc copy
		if [ "$DELETE_EXTRA" = 1 ]; then apply_etc remove; fi
	fi
	if [ "$DO_UNITS" = 1 ] && [ "$SYSTEMD_OK" = 1 ]; then apply_units; fi
	echo "$CHANGES change(s) made. Run again with --dry-run to check: it should say \"No changes.\""
elif [ "$CHANGES" -gt 0 ]; then
	echo "$CHANGES change(s) would be made. Run with --apply to make them."
else
	echo "No changes."
fi
