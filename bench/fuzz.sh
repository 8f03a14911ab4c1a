#!/usr/bin/env bash
# Long fuzzing of the parsers (not in CI): builds tests/fuzz/fuzz_parsers.c with clang's
# libFuzzer and runs it for SECONDS (default 600), seeded with real files.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
dpkg -s clang libclang-rt-14-dev >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq clang libclang-rt-14-dev >/dev/null; }
cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DOBAGENT_FUZZ=ON -DOBAGENT_BUILD_MODULE=OFF -DOBAGENT_BUILD_TESTS=OFF >/dev/null
cmake --build build-fuzz --target fuzz_parsers -j"$(nproc)" >/dev/null
corpus=build-fuzz/corpus
mkdir -p "$corpus"
printf '\x01obagent-vault 1\nformat=1\nid=x\n' > "$corpus/kv"
printf '\x00<?xml version="1.0"?><VaultCredentials><Version>1</Version></VaultCredentials>' > "$corpus/cred"
printf '\x02OBTR\x01\x00\x00\x00\x00' > "$corpus/tree"
printf '\x03OBIX\x01\x00\x00\x00\x00' > "$corpus/index"
printf '\x04OBPK\x01\x00\x00\x00\x00' > "$corpus/pack"
printf '\x05obagent-server-key 2\nvault_id=v\nserver_id=s\nsequence=1\nkdf=scrypt\nsigning_key=AAAA\nsignature=AAAA\n' > "$corpus/key"
printf '\x06obagent-signer 1\nvault=v\nserver=s\nsigning_key=AAAA\nsignature=AAAA\n' > "$corpus/signer"
printf '\x07obagent-source 2\nid=1\nname=/\nkind=FileFolder\nsignature=AAAA\n' > "$corpus/source"
printf '\x08\x00obagent-generation 2\nserver=s\nvault=v\ngeneration=1\nat=1\n' > "$corpus/generation"
printf '\x09\x02obagent-prune-mark 2\nserver=s\nvault=v\npack=00\nmarked_at=1\n' > "$corpus/prune"
printf '\x0a001796220000-000000001-0011223344556677\x00obagent-deletion 2\npoint=p\nserver=s\nvault=v\nnonce=n\nsigner=server\nsignature=AAAA\n' > "$corpus/deletion"
printf '\x0bobagent-undeletion 1\npoint=point\nmarker=00\nat=1\nsignature=AAAA\n' > "$corpus/undeletion"
build-fuzz/fuzz_parsers -max_total_time="${SECONDS_TO_RUN:-600}" -max_len=65536 "$corpus"
