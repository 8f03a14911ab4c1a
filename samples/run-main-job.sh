#!/usr/bin/env bash
# The main job on a fresh machine: install what is needed, build obagent, then run
# the sample journey (samples/MainJob.ps1) with the module imported from the build.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash .ci/setup
export PATH="$HOME/.dotnet/tools:$PATH"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
cmake -S . -B build >/dev/null
cmake --build build -j"$(nproc 2>/dev/null || echo 2)" >/dev/null
exec pwsh -NoProfile -NonInteractive -File samples/MainJob.ps1 -ModulePath "$PWD/build/module/OBAgent"
