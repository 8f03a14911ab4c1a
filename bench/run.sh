#!/usr/bin/env bash
# bench/run.sh - obagent side by side with restic and borg on the shared benchmark data.
#
#   bench/run.sh [setup|mixed|small|restore|profile|summary|all]     (default: all)
#
#   setup    peers (Debian restic + borgbackup), data (gen-dataset.sh mixed + small), the `walk`
#            helper (all three through the shared run-peers.sh setup), obagent (Release build),
#            bench/reap.c, and one empty registered obagent state per data set to copy from.
#   mixed    initial backup of mixed (fresh vault/repos), backup with no change, backup after
#            `gen-dataset.sh mutate`; each round runs every step for all three tools, interleaved.
#   small    initial backup of small (100,000 files, fresh vault/repos), then unchanged.
#   restore  restore of mixed to a fresh folder (vault/repos warmed in the page cache first);
#            every obagent restore is checked with diff -r against the source (any difference
#            stops the run); restic's and borg's are checked once.
#   profile  one extra obagent initial backup of mixed with its worker's threads sampled from
#            /proc (and `perf record` if it works): where the time goes. Not part of `all`.
#   summary  tables for RUN_ID (default: the last run) into bench/results/<date>.md.
#   all      setup mixed small restore summary
#
# Env: W=/tmp/obagent-bench  work folder (data, vaults, repos; ~8 GiB; never inside the repo)
#      PAIRS=3     measured rounds per comparison (each round: obagent, restic, borg; the tool
#                  order rotates from round to round); WARMUP=1 adds one unrecorded round first
#      RUN_ID      label of this run in $W/results/runs.tsv (default: a timestamp; set the same
#                  RUN_ID to gather separate invocations into one summary)
#      SHARED      folder of gen-dataset.sh and run-peers.sh (default: ../shared/bench beside the repo)
#      OBAGENT_REV=HEAD   obagent revision measured: a commit, built from `git archive` in $W/obagent-src
#                  (the work tree may be mid-edit); `worktree` builds the work tree as it is
#      BUILD       obagent build folder (default: $W/obagent-build; <repo>/build-bench for worktree)
#      QUIET=0.3 QUIET_MAX=90   before each timed step, wait up to QUIET_MAX s for the rest of the
#                  machine to use less than QUIET cores; the CPU it used during each step is in
#                  $W/results/load.tsv and in the summary ("other load")
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BENCH=$ROOT/bench
SHARED=${SHARED:-$(cd "$ROOT/.." && pwd)/shared/bench}
[ -f "$SHARED/run-peers.sh" ] || SHARED=/work/shared/bench
export W=${W:-/tmp/obagent-bench}
case $W/ in "$ROOT"/*) echo "W=$W is inside the repository: the data must stay outside" >&2; exit 2 ;; esac
PAIRS=${PAIRS:-3}; WARMUP=${WARMUP:-1}
export RUNS=$PAIRS
OBAGENT_REV=${OBAGENT_REV:-HEAD}
if [ "$OBAGENT_REV" = worktree ]; then BUILD=${BUILD:-$ROOT/build-bench}; else BUILD=${BUILD:-$W/obagent-build}; fi
OB=$BUILD/obagent REAP=$W/bin/reap
export OBAGENT_SERVER_NAME=bench
OB_PASSPHRASE=${OB_PASSPHRASE:-bench passphrase 0123456789}
MODE=${1:-all}

# The shared functions: timed, size, tool_init, tool_backup, tool_restore, setup (and DATA R L,
# RESTIC_PASSWORD, BORG_PASSPHRASE, RESTIC_CACHE_DIR, BORG_BASE_DIR).
# shellcheck source=/dev/null
. "$SHARED/run-peers.sh"
HERE=$SHARED    # run-peers.sh takes HERE from $0, which is this script when sourced

if [ -z "${RUN_ID:-}" ]; then
  if [ "$MODE" = summary ] && [ -f "$R/last-run-id" ]; then RUN_ID=$(cat "$R/last-run-id")
  else RUN_ID=ob-$(date +%Y%m%d-%H%M%S); fi
fi
[ "$MODE" = summary ] || echo "$RUN_ID" >"$R/last-run-id"
TOOLS=(obagent restic borg)
RREPO=$W/repo-restic BREPO=$W/repo-borg
SRC=$W/src RESTORE=$W/restore

on_exit() {
  local rc=$?
  if [ $rc -ne 0 ] && [ -n "${OBAGENT_HOME:-}" ] && [ -s "$OBAGENT_HOME/worker.log" ]; then
    echo "---- bench stopped (exit $rc); $OBAGENT_HOME/worker.log (last 30 lines):" >&2
    tail -30 "$OBAGENT_HOME/worker.log" >&2
    "$OB" jobs 3 >&2 || true
  fi
}
trap on_exit EXIT

say() { printf '\n== %s\n' "$*"; }

# ------------------------------------------------------------------------------------- setup
build_obagent() { # the committed revision OBAGENT_REV (default HEAD), or the work tree as it is
  local src=$ROOT
  if [ "$OBAGENT_REV" != worktree ]; then
    src=$W/obagent-src; rm -rf "$src"; mkdir -p "$src"
    git -C "$ROOT" archive "$OBAGENT_REV" | tar -x -C "$src"
  fi
  cmake -S "$src" -B "$BUILD" -DOBAGENT_BUILD_MODULE=OFF -DOBAGENT_BUILD_TESTS=OFF \
    -DCMAKE_BUILD_TYPE=Release >"$L/obagent-build.log" 2>&1 &&
    cmake --build "$BUILD" -j2 >>"$L/obagent-build.log" 2>&1 ||
    { tail -30 "$L/obagent-build.log"; echo "obagent build failed" >&2; exit 1; }
  gcc -O2 -Wall -o "$REAP" "$BENCH/reap.c"
  if [ "$OBAGENT_REV" = worktree ]; then
    echo "obagent work tree at $(git -C "$ROOT" rev-parse --short HEAD)$(git -C "$ROOT" diff --quiet HEAD -- native include CMakeLists.txt || echo ' + uncommitted engine changes')"
  else
    echo "obagent $(git -C "$ROOT" rev-parse --short "$OBAGENT_REV")"
  fi >"$R/obagent-version.txt"
  cp "$R/obagent-version.txt" "$R/$RUN_ID-version.txt"
  cat "$R/obagent-version.txt"
}

# ob_template NAME DATA_PATH: an empty vault + registered agent home with a policy on DATA_PATH,
# at $W/ob/NAME (where every run uses it: the state holds absolute paths), kept as NAME.empty.
ob_template() {
  local d=$W/ob/$1 c
  rm -rf "$d" "$d.empty"; mkdir -p "$d"
  OBAGENT_HOME=$d/home "$OB" vault-create --name "Bench-$1" --path "$d/vault" >/dev/null
  c=$(OBAGENT_HOME=$d/home "$OB" credentials --vault "$d/vault" --out "$d/creds")
  OBAGENT_HOME=$d/home "$OB" register "$c" >/dev/null
  OBAGENT_HOME=$d/home OBAGENT_PASSPHRASE=$OB_PASSPHRASE "$OB" passphrase >/dev/null
  OBAGENT_HOME=$d/home "$OB" policy "$2" >/dev/null
  cp -a "$d" "$d.empty"
}

do_setup() {
  say "setup: peers, data, walk (run-peers.sh setup), obagent Release build, reap"
  setup
  build_obagent
  fresh_src
  ob_template mixed "$SRC/mixed"
  ob_template small "$DATA/small"
}

need_setup() {
  [ -x "$OB" ] && [ -x "$REAP" ] && [ -d "$W/ob/mixed.empty" ] && [ -d "$W/ob/small.empty" ] &&
    [ -d "$DATA/mixed" ] && [ -d "$DATA/small" ] && [ -x "$W/bin/walk" ] &&
    command -v restic >/dev/null && command -v borg >/dev/null || do_setup
}

# ------------------------------------------------------------------------------------- helpers
rotation() { # rotation ROUND: the three tools, starting at a different one each round
  local i; for i in 0 1 2; do printf '%s ' "${TOOLS[$(( (i + $1) % 3 ))]}"; done
}
tag_of() { # tag_of ROUND: RUN_ID, or RUN_ID-warmup for round 0
  if [ "$1" -eq 0 ]; then echo "$RUN_ID-warmup"; else echo "$RUN_ID"; fi
}
first_round() { if [ "$WARMUP" = 1 ]; then echo 0; else echo 1; fi; }

fresh_src() { # a pristine copy of mixed at $SRC/mixed (the same bytes and mtimes as regenerating it)
  rm -rf "$SRC"; mkdir -p "$SRC"; cp -a "$DATA/mixed" "$SRC/mixed"; sync
}
warm() { find "$@" -type f -exec cat {} + >/dev/null 2>&1 || true; }   # into the page cache
repo_of() { case $1 in obagent) echo "$W/ob/$2/vault" ;; restic) echo "$RREPO" ;; borg) echo "$BREPO" ;; esac; }

fresh_repo() { # fresh_repo TOOL SET: an empty vault / repository (untimed)
  case $1 in
    obagent) rm -rf "$W/ob/$2"; cp -a "$W/ob/$2.empty" "$W/ob/$2" ;;
    restic) rm -rf "$RREPO" "$RESTIC_CACHE_DIR"; tool_init restic-auto "$RREPO" ;;
    borg) rm -rf "$BREPO" "$BORG_BASE_DIR"; tool_init borg-lz4 "$BREPO" ;;
  esac
  sync
}

# Other sessions may share this machine: every timed step also records how much CPU the rest of the
# machine used meanwhile (busy time in /proc/stat minus the step's own user+sys), in load.tsv.
busy() { awk '/^cpu /{print ($2+$3+$4+$7+$8) / 100}' /proc/stat; }   # user nice system irq softirq, s
# Before a step, wait (at most QUIET_MAX s, default 90) until the rest of the machine has used less
# than QUIET cores (default 0.3) over one second.
quiet() {
  local t0 a b waited=0
  while [ "$waited" -lt "${QUIET_MAX:-90}" ]; do
    a=$(busy); sleep 1; b=$(busy)
    awk -v a="$a" -v b="$b" -v q="${QUIET:-0.3}" 'BEGIN { exit !(b - a < q) }' && break
    waited=$((waited + 1))
  done
  [ "$waited" -eq 0 ] || echo "(waited ${waited} s for other work on this machine to quieten)"
}
TICK_START=0
step_begin() { sync; quiet; TICK_START=$(busy); }
step_end() { # step_end LABEL
  local now; now=$(busy)
  awk -F'\t' -v l="$1" -v b="$TICK_START" -v n="$now" '$1 == l { w = $2; c = $3 + $4 }
    END { o = n - b - c; if (o < 0) o = 0; printf "%s\t%.2f\t%.2f\n", l, o, w }' "$R/runs.tsv" >>"$R/load.tsv"
}

backup() { # backup TOOL SET LABEL NAME PATH : one timed backup (run from the folder holding PATH)
  step_begin
  case $1 in
    obagent) export OBAGENT_HOME=$W/ob/$2/home; timed "$3" "$REAP" "$OB" backup ;;
    restic) tool_backup "$3" restic-auto "$RREPO" "$4" "$5" ;;
    borg) tool_backup "$3" borg-lz4 "$BREPO" "$4" "$5" ;;
  esac
  step_end "$3"
}

record_size() { # record_size TOOL SET TAG SCENARIO ROUND: du -sb of the vault/repo (+ obagent's home)
  size "$3/size/$4/$1/r$5" "$(repo_of "$1" "$2")" >/dev/null
  [ "$1" != obagent ] || size "$3/home-size/$4/$1/r$5" "$W/ob/$2/home" >/dev/null
}

ob_first_point() { OBAGENT_HOME=$W/ob/$1/home "$OB" points | tail -1 | awk '{print $1}'; }

# ------------------------------------------------------------------------------------- series
series_mixed() {
  local r t tag
  say "mixed: initial, no change, after mutate; $PAIRS rounds (+ warm-up: $WARMUP), order rotates"
  for r in $(seq "$(first_round)" "$PAIRS"); do
    tag=$(tag_of "$r")
    fresh_src; cd "$SRC"
    for t in $(rotation "$r"); do
      export OBAGENT_HOME=$W/ob/mixed/home
      fresh_repo "$t" mixed; warm "$SRC/mixed"
      backup "$t" mixed "$tag/mixed-initial/$t/r$r" init mixed
      record_size "$t" mixed "$tag" mixed-initial "$r"
    done
    for t in $(rotation "$r"); do
      warm "$SRC/mixed"
      backup "$t" mixed "$tag/mixed-nochange/$t/r$r" nochange mixed
      record_size "$t" mixed "$tag" mixed-nochange "$r"
    done
    "$SHARED/gen-dataset.sh" mutate "$SRC" >"$L/mutate.log"   # once per round, seen by all three
    for t in $(rotation "$r"); do
      warm "$SRC/mixed"
      backup "$t" mixed "$tag/mixed-mutate/$t/r$r" mutate mixed
      record_size "$t" mixed "$tag" mixed-mutate "$r"
    done
  done
}

series_small() {
  local r t tag
  say "small: initial and unchanged backup of 100,000 files; $PAIRS rounds (+ warm-up: $WARMUP)"
  cd "$DATA"
  for r in $(seq "$(first_round)" "$PAIRS"); do
    tag=$(tag_of "$r")
    for t in $(rotation "$r"); do
      export OBAGENT_HOME=$W/ob/small/home
      fresh_repo "$t" small; "$W/bin/walk" -r small >/dev/null
      backup "$t" small "$tag/small-initial/$t/r$r" init small
      record_size "$t" small "$tag" small-initial "$r"
    done
    for t in $(rotation "$r"); do
      "$W/bin/walk" -r small >/dev/null
      backup "$t" small "$tag/small-nochange/$t/r$r" nochange small
    done
  done
}

verify() { # verify TOOL DIR: the restored tree must equal the source, byte for byte
  if ! diff -r "$DATA/mixed" "$2" >"$L/restore-diff-$1.txt" 2>&1; then
    echo "RESTORE MISMATCH: $1 restored $2, which differs from $DATA/mixed:" >&2
    head -20 "$L/restore-diff-$1.txt" >&2
    exit 1
  fi
  echo "verified: $1 restore equals the source (diff -r)"
}

series_restore() {
  local r t tag point
  say "restore of mixed to a fresh folder; $PAIRS rounds (+ warm-up: $WARMUP)"
  fresh_src; cd "$SRC"
  export OBAGENT_HOME=$W/ob/mixed/home
  for t in "${TOOLS[@]}"; do      # one backup each to restore from (untimed for the summary)
    fresh_repo "$t" mixed; warm "$SRC/mixed"
    backup "$t" mixed "$RUN_ID-prep/restore-source/$t" init mixed
  done
  point=$(ob_first_point mixed)
  for r in $(seq "$(first_round)" "$PAIRS"); do
    tag=$(tag_of "$r")
    for t in $(rotation "$r"); do
      rm -rf "$RESTORE"; mkdir -p "$RESTORE"
      warm "$(repo_of "$t" mixed)"
      [ "$t" != obagent ] || warm "$W/ob/mixed/home"
      [ "$t" != restic ] || warm "$RESTIC_CACHE_DIR"
      step_begin
      case $t in
        obagent) timed "$tag/mixed-restore/$t/r$r" "$REAP" "$OB" restore --point "$point" \
                   --dest "$RESTORE/obagent" --item "${SRC#/}/mixed" ;;
        restic) tool_restore "$tag/mixed-restore/$t/r$r" restic-auto "$RREPO" init "$RESTORE/restic" ;;
        borg) tool_restore "$tag/mixed-restore/$t/r$r" borg-lz4 "$BREPO" init "$RESTORE/borg" ;;
      esac
      step_end "$tag/mixed-restore/$t/r$r"
      if [ "$t" = obagent ]; then verify obagent "$RESTORE/obagent$SRC/mixed"
      elif [ "$r" -eq 1 ]; then verify "$t" "$(find "$RESTORE/$t" -type d -name mixed | head -1)"; fi
    done
  done
  rm -rf "$RESTORE"
}

profile() { # where obagent's time goes: per-thread CPU of the worker, sampled from /proc
  local out=$R/$RUN_ID-profile
  say "profile: obagent initial backup of mixed, worker threads sampled every 0.1 s"
  mkdir -p "$out"; fresh_src; export OBAGENT_HOME=$W/ob/mixed/home
  fresh_repo obagent mixed; warm "$SRC/mixed"; sync
  python3 "$BENCH/threads.py" "$OB" backup | tee "$out/threads.txt"
  say "profile: obagent restore of mixed (the point just made), threads sampled every 0.1 s"
  rm -rf "$RESTORE"; mkdir -p "$RESTORE"; warm "$W/ob/mixed/vault" "$W/ob/mixed/home"; sync
  SAMPLE=command python3 "$BENCH/threads.py" "$OB" restore --point "$(ob_first_point mixed)" \
    --dest "$RESTORE/obagent" --item "${SRC#/}/mixed" | tee "$out/threads-restore.txt"
  rm -rf "$RESTORE"
  if perf record -o /dev/null -- true >/dev/null 2>&1; then
    fresh_repo obagent mixed; warm "$SRC/mixed"; sync
    perf record -F 499 -o "$out/perf.data" -- "$REAP" "$OB" backup >"$out/perf-run.log" 2>&1
    perf report -i "$out/perf.data" --stdio --no-children --sort comm,dso,sym 2>/dev/null |
      grep -v '^#' | grep -v '^$' | head -40 | tee "$out/perf.txt"
  fi
}

summary() { # bench/results/<date>.md, or <date>-<time>.md when that day already has another run's
  local day file; day=$(date +%F); mkdir -p "$BENCH/results"; file=$BENCH/results/$day.md
  if [ -f "$file" ] && ! grep -q "$RUN_ID" "$file"; then file=$BENCH/results/$day-${RUN_ID##*-}.md; fi
  WARMUP=$WARMUP python3 "$BENCH/summary.py" "$R/runs.tsv" "$R/sizes.tsv" "$R/load.tsv" "$RUN_ID" "$PAIRS" \
    "$(cat "$R/$RUN_ID-version.txt" 2>/dev/null || cat "$R/obagent-version.txt" 2>/dev/null || echo obagent)" \
    "$(restic version | head -1); $(borg --version); $(nproc) CPU; $(uname -r)" \
    | tee "$R/$RUN_ID-summary.md" >"$file"
  cat "$file"
  echo; echo "written: $file"
}

case $MODE in
  setup) do_setup ;;
  mixed) need_setup; series_mixed ;;
  small) need_setup; series_small ;;
  restore) need_setup; series_restore ;;
  profile) need_setup; profile ;;
  summary) summary ;;
  all) do_setup; series_mixed; series_small; series_restore; summary ;;
  *) sed -n '2,28p' "$0"; exit 2 ;;
esac
