#!/usr/bin/env bash
# Azure Blob back end against Azurite on loopback, beside the local back end, in the same run,
# with Azurite's own CPU use (it shares the 2 cores and caps the figures). Not part of CI.
#   bench/azure.sh [objects|jobs|all]          (default: all)
#   objects  N=16 objects of SIZE=16 MiB put then read back, ROUNDS=3: owner key (parallel
#            blocks), agent SAS "rcl" (one Put Blob each), local folder
#   jobs     whole jobs through the obagent runner: an initial backup of JOB_MB=256 MiB of the
#            shared `mixed` data (text, random, gzip), then a restore of it, ROUNDS=3, to a local
#            vault and to an Azure vault (the agent holds only its credentials file's SAS); every
#            restore is compared with the source (diff -r)
# Variables: BUILD (a build folder with libobagent.so and obagent; default: a Release build in $W),
#            W (work folder, default /tmp/obagent-bench-azure), PORT (default 10100),
#            SHARED (folder of gen-dataset.sh, default ../shared/bench beside the repository).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
W=${W:-/tmp/obagent-bench-azure}
N=${N:-16}; SIZE=${SIZE:-16}; ROUNDS=${ROUNDS:-3}; PORT=${PORT:-10100}; JOB_MB=${JOB_MB:-256}
MODE=${1:-all}
SHARED=${SHARED:-$(cd "$here/.." && pwd)/shared/bench}
[ -f "$SHARED/gen-dataset.sh" ] || SHARED=/work/shared/bench
BUILD=${BUILD:-$W/build}
mkdir -p "$W"

if [ ! -f "$BUILD/libobagent.so" ] || [ ! -x "$BUILD/obagent" ]; then
	cmake -S "$here" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DOBAGENT_BUILD_MODULE=OFF -DOBAGENT_BUILD_TESTS=OFF >/dev/null
	cmake --build "$BUILD" -j"$(nproc)" >/dev/null
fi
cc -O2 -std=c11 -D_POSIX_C_SOURCE=200809L -I"$here/include" "$here/bench/backend_bench.c" \
	-L"$BUILD" -lobagent -Wl,-rpath,"$BUILD" -o "$W/backend_bench"

export OBAGENT_AZURITE_RUN=$W/azurite
trap 'bash "$here/tests/support/azurite.sh" stop "$PORT" >/dev/null' EXIT
bash "$here/tests/support/azurite.sh" start "$PORT" >/dev/null
pid=$(cat "$OBAGENT_AZURITE_RUN/pid")
endpoint=http://127.0.0.1:$PORT/devstoreaccount1
DEV_KEY="Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="  # Azurite's published dev key

objects() {
	echo "# objects: $N x $SIZE MiB, $ROUNDS rounds; $(nproc) cores; $(curl-config --version); Azurite $(node -p "require('${OBAGENT_TOOLS:-$HOME/.obagent-tools}/azurite/node_modules/azurite/package.json').version") (disk, --location)"
	for r in $(seq "$ROUNDS"); do
		rm -rf "$W/local" && mkdir -p "$W/local"
		"$W/backend_bench" local "$W/local" "$N" "$SIZE"
		"$W/backend_bench" azure "$endpoint" "bench-key-$r" key "$N" "$SIZE" "$pid"
		"$W/backend_bench" azure "$endpoint" "bench-sas-$r" sas "$N" "$SIZE" "$pid"
	done
	rm -rf "$W/local"
}

cpu_of() { # CPU seconds (user + system) used so far by process $1
	awk -v t="$(getconf CLK_TCK)" '{ sub(/.*\) /, ""); split($0, f, " "); printf "%.2f", (f[12] + f[13]) / t }' "/proc/$1/stat"
}

# run_timed OUT CMD...: CMD under GNU time around reap (the detached worker included);
# prints "wall cpu rss_MiB azurite_cpu"
run_timed() {
	local out=$1 a0 a1; shift
	a0=$(cpu_of "$pid"); sync
	/usr/bin/time -o "$W/.time" -f '%e %U %S %M' "$W/reap" "$@" >"$out" 2>&1 || { tail -5 "$out"; exit 1; }
	a1=$(cpu_of "$pid")
	read -r wall user sys rss <"$W/.time"
	awk -v w="$wall" -v u="$user" -v s="$sys" -v m="$rss" -v a="$a0" -v b="$a1" \
		-v mib="$mib" 'BEGIN { printf "%6.2f s  %5.0f MiB/s  cpu %6.2f s  rss %4d MiB  azurite cpu %6.2f s", w, mib / w, u + s, m / 1024, b - a }'
}

jobs_bench() {
	local data=$W/data src r kind home vault c point mib
	command -v /usr/bin/time >/dev/null || { echo "needs GNU time (apt-get install time)" >&2; exit 1; }
	[ -x "$W/reap" ] || gcc -O2 -Wall -o "$W/reap" "$here/bench/reap.c"
	[ -d "$data/mixed" ] || MIXED_MB=$JOB_MB bash "$SHARED/gen-dataset.sh" mixed "$data" >/dev/null
	src=$data/mixed
	mib=$(du -sm --apparent-size "$src" | cut -f1)
	echo "# jobs: initial backup of $mib MiB ($(find "$src" -type f | wc -l) files of shared mixed data), then its restore; $ROUNDS rounds"
	echo "# wall / CPU of the obagent process tree / peak RSS of its worker / CPU Azurite used meanwhile"
	for r in $(seq "$ROUNDS"); do
		for kind in local azure; do
			home=$W/job-$kind; vault=$W/job-vault
			rm -rf "$home" "$vault" "$W/restore"; mkdir -p "$home" "$W/restore"
			export OBAGENT_HOME=$home OBAGENT_SERVER_NAME=bench-$kind
			if [ "$kind" = local ]; then
				"$BUILD/obagent" vault-create --name Bench --path "$vault" >/dev/null
				c=$("$BUILD/obagent" credentials --vault "$vault" --out "$home")
			else
				OBAGENT_OWNER_KEY=$DEV_KEY "$BUILD/obagent" vault-create --name Bench --account devstoreaccount1 \
					--container "job-$r" --endpoint "$endpoint" >/dev/null
				c=$(OBAGENT_OWNER_KEY=$DEV_KEY "$BUILD/obagent" credentials --account devstoreaccount1 \
					--container "job-$r" --endpoint "$endpoint" --out "$home")
			fi
			"$BUILD/obagent" register "$c" >/dev/null
			OBAGENT_PASSPHRASE="bench passphrase 0123456789" "$BUILD/obagent" passphrase >/dev/null
			"$BUILD/obagent" policy "$src" >/dev/null
			find "$src" -type f -exec cat {} + >/dev/null
			printf 'r%s %-5s backup   %s\n' "$r" "$kind" "$(run_timed "$W/backup-$kind.log" "$BUILD/obagent" backup)"
			point=$("$BUILD/obagent" points | head -1 | awk '{print $1}')
			printf 'r%s %-5s restore  %s\n' "$r" "$kind" "$(run_timed "$W/restore-$kind.log" "$BUILD/obagent" restore \
				--point "$point" --dest "$W/restore" --item "${src#/}")"
			diff -r "$src" "$W/restore$src" >/dev/null || { echo "RESTORE MISMATCH ($kind, round $r)" >&2; exit 1; }
		done
	done
	rm -rf "$W/job-local" "$W/job-vault" "$W/job-azure" "$W/restore"
}

case $MODE in
	objects) objects ;;
	jobs) jobs_bench ;;
	all) objects; jobs_bench ;;
	*) sed -n 2,14p "$0"; exit 2 ;;
esac
