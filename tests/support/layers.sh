#!/usr/bin/env bash
# The engine's include arrows run one way (docs/ARCHITECTURE.md, "The engine, one folder per layer"):
# a file in native/<layer>/ includes headers of its own layer and of layers below it only; layers of the same rank do not
# include each other; the runner in native/cli/ sees only the public API (include/obagent*).
# Two seams are checked by name as well: SQL lives in catalog/ only (no sqlite3 outside it, and
# catalog/statement.h, which hands out the database, is included by catalog/ alone), and every OS
# call lives in platform/ (no POSIX or OS header outside it but the C library's and pthread's).
# Prints every include that breaks this and exits 1 if there is one.
# With --link and a build folder it checks the arrows at link level too: per layer, the symbols its
# object files (CMakeFiles/obagent_objects.dir/native/<layer>/*.o, and the runner's) leave undefined
# that a layer not below it defines; it prints them and exits 1 if there is one. A call through a
# function pointer does not show there; an arrow an include hides (a declaration written by hand) does.
#   tests/support/layers.sh [--link <build folder>] [repository root]
set -euo pipefail
build=""
if [ "${1:-}" = --link ]; then
  build=$(cd "${2:?--link needs a build folder}" && pwd)
  shift 2
fi
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

# ---- the catalog's and the platform's seams ----
for f in */*.c */*.h; do
  layer=${f%%/*}
  [ "$layer" = catalog ] && continue
  if grep -n 'sqlite3' "$f" >/dev/null; then
    grep -n 'sqlite3' "$f" | sed "s|^|$f:|; s|\$| (SQL belongs in catalog/)|"; bad=1
  fi
  if grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*"catalog/statement.h"' "$f" >/dev/null; then
    echo "$f: includes \"catalog/statement.h\" (private to catalog/)"; bad=1
  fi
  # The runner (cli/) is a program of its own over the public API, which has no platform layer to
  # offer it: its few OS calls (a folder's lstat, the waits of `obagent backup`) are its own.
  case $layer in platform|cli) continue ;; esac
  # OS headers: what a Windows port would not have. The C library's, C11's and pthread's are fine.
  while IFS= read -r inc; do
    case $inc in
      unistd.h|fcntl.h|dirent.h|sys/*|poll.h|pwd.h|grp.h|dlfcn.h|spawn.h|termios.h|syslog.h|fnmatch.h|ftw.h|glob.h|netdb.h|arpa/*|netinet/*|linux/*|mntent.h|utime.h)
        echo "$f: includes <$inc> (an OS header: OS calls belong in platform/)"; bad=1 ;;
    esac
  done < <(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*<\([^>]*\)>.*/\1/p' "$f")
done

# ---- link level ----
if [ -n "$build" ]; then
  objs=()
  for d in "$build"/CMakeFiles/obagent_objects.dir/native "$build"/CMakeFiles/obagent_cli.dir/native; do
    [ -d "$d" ] || continue
    for o in "$d"/*/*.o; do [ -e "$o" ] && objs+=("$o"); done
  done
  [ "${#objs[@]}" -gt 0 ] || { echo "no object files under $build/CMakeFiles/obagent_objects.dir/native (build first)"; exit 1; }
  ranks=""
  for l in "${!rank[@]}"; do ranks+="$l=${rank[$l]} "; done
  # One line per symbol: "D <symbol> <layer>/<file>" where it is defined, "U <symbol> <layer>/<file>" where used.
  link_out=$(for o in "${objs[@]}"; do
      rel=${o#*/native/}; rel=${rel%.o}
      nm -P -g --defined-only "$o" | awk -v f="$rel" '$2 ~ /^[A-TV-Z]$/ { print "D", $1, f }'
      nm -P -u "$o" | awk -v f="$rel" '{ print "U", $1, f }'
    done | awk -v ranks="$ranks" '
      BEGIN { n = split(ranks, kv, " "); for (i = 1; i <= n; i++) { split(kv[i], p, "="); rank[p[1]] = p[2] } }
      $1 == "D" { def[$2] = $3; next }
      { use[++u] = $2 " " $3 }
      END {
        for (i = 1; i <= u; i++) {
          split(use[i], x, " "); sym = x[1]; file = x[2]
          if (!(sym in def)) continue
          from = file; sub(/\/.*/, "", from); to = def[sym]; sub(/\/.*/, "", to)
          if (from == to || rank[to] < rank[from]) continue
          print from " (" rank[from] ") -> " to " (" rank[to] "): " file ".o uses " sym " (" def[sym] ")"
        }
      }' | sort -t: -k1,1 -s)
  if [ -n "$link_out" ]; then
    echo "link level: symbols a layer uses from a layer not below it"
    echo "$link_out"
    bad=1
  fi
fi
exit $bad
