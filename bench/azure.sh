#!/usr/bin/env bash
# Throughput of 16 MiB objects: the Azure Blob back end against Azurite on loopback
# (owner key: parallel blocks; agent SAS "rcl": one Put Blob each), beside the local
# back end, with Azurite's own CPU use. Not part of CI. Needs Azurite (.ci/setup).
#   bench/azure.sh            N=16 objects of SIZE=16 MiB, ROUNDS=3
# Variables: BUILD (a build folder with libobagent.so; default: a Release build in $W),
#            W (work folder, default /tmp/obagent-bench-azure), PORT (default 10100).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
W=${W:-/tmp/obagent-bench-azure}
N=${N:-16}; SIZE=${SIZE:-16}; ROUNDS=${ROUNDS:-3}; PORT=${PORT:-10100}
BUILD=${BUILD:-$W/build}
mkdir -p "$W"

if [ ! -f "$BUILD/libobagent.so" ]; then
	cmake -S "$here" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DOBAGENT_BUILD_MODULE=OFF -DOBAGENT_BUILD_TESTS=OFF >/dev/null
	cmake --build "$BUILD" -j"$(nproc)" --target obagent >/dev/null
fi
cc -O2 -std=c11 -D_POSIX_C_SOURCE=200809L -I"$here/include" "$here/bench/backend_bench.c" \
	-L"$BUILD" -lobagent -Wl,-rpath,"$BUILD" -o "$W/backend_bench"

export OBAGENT_AZURITE_RUN=$W/azurite
trap 'bash "$here/tests/support/azurite.sh" stop "$PORT" >/dev/null' EXIT
bash "$here/tests/support/azurite.sh" start "$PORT" >/dev/null
pid=$(cat "$OBAGENT_AZURITE_RUN/pid")
endpoint=http://127.0.0.1:$PORT/devstoreaccount1

echo "# $N x $SIZE MiB, $ROUNDS rounds; $(nproc) cores; $(curl-config --version); Azurite $(node -p "require('${OBAGENT_TOOLS:-$HOME/.obagent-tools}/azurite/node_modules/azurite/package.json').version") (disk, --location)"
for r in $(seq "$ROUNDS"); do
	rm -rf "$W/local" && mkdir -p "$W/local"
	"$W/backend_bench" local "$W/local" "$N" "$SIZE"
	"$W/backend_bench" azure "$endpoint" "bench-key-$r" key "$N" "$SIZE" "$pid"
	"$W/backend_bench" azure "$endpoint" "bench-sas-$r" sas "$N" "$SIZE" "$pid"
done
rm -rf "$W/local"
