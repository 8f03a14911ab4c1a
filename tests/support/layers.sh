#!/usr/bin/env bash
# The engine's include arrows run one way (docs/ARCHITECTURE.md, "Layers"): a file in native/<layer>/
# includes headers of its own layer and of layers below it only; layers of the same rank do not
# include each other; the runner in native/cli/ sees only the public API (include/obagent*).
# Prints every include that breaks this and exits 1 if there is one.
#   tests/support/layers.sh [repository root]
set -euo pipefail
root=${1:-$(cd "$(dirname "$0")/../.." && pwd)}
declare -A rank=(
  [util]=0 [platform]=1 [catalog]=2 [storage]=2 [vault]=3 [agent]=4
  [backup]=5 [restore]=5 [policy]=5 [maintenance]=6 [systemstate]=6 [jobs]=7 [cli]=8
)
bad=0
cd "$root/native"
for f in */*.c */*.h; do
  layer=${f%%/*}
  [ -n "${rank[$layer]+x}" ] || { echo "$f: native/$layer/ is not a known layer (tests/support/layers.sh)"; bad=1; continue; }
  while IFS= read -r inc; do
    case $inc in obagent.h|obagent/*) continue ;; esac
    if [ "$layer" = cli ]; then echo "$f: includes \"$inc\" (the runner uses only the public API)"; bad=1; continue; fi
    to=${inc%%/*}
    if [ "$to" = "$inc" ]; then echo "$f: includes \"$inc\" (name headers by their layer: \"<layer>/$inc\")"; bad=1; continue; fi
    [ "$to" = "$layer" ] && continue
    if [ -z "${rank[$to]+x}" ]; then echo "$f: includes \"$inc\" from no known layer"; bad=1
    elif [ "${rank[$to]}" -ge "${rank[$layer]}" ]; then echo "$f ($layer) includes \"$inc\" ($to): not a layer below"; bad=1; fi
  done < <(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f")
done
exit $bad
