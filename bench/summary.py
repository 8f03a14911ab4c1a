#!/usr/bin/env python3
"""summary.py RUNS_TSV SIZES_TSV LOAD_TSV RUN_ID PAIRS OBAGENT_VERSION PEERS: markdown tables for one run.

runs.tsv rows (written by run-peers.sh `timed`): RUN_ID/SCENARIO/TOOL/rN  wall  user  sys  maxrss_KiB
sizes.tsv rows (run-peers.sh `size`):          RUN_ID/size/SCENARIO/TOOL/rN  bytes   (du -sb)
load.tsv rows (run.sh step_end):               RUN_ID/SCENARIO/TOOL/rN  other_cpu_s  wall  (CPU used
                                                by the rest of the machine during the step)
Ratios are taken round by round (the tools of one round ran minutes apart, in rotating order) and
the median of the per-round ratios is quoted, with min..max.
"""
import collections, os, statistics as st, sys, time

runs_tsv, sizes_tsv, load_tsv, run_id, pairs, ob_version, peers = sys.argv[1:8]
TOOLS = ("obagent", "restic", "borg")
SCEN = [("mixed-initial", "initial backup of mixed (1.07 GB, 190 files)"),
        ("mixed-nochange", "mixed, no change"),
        ("mixed-mutate", "mixed after mutate (0.76% changed)"),
        ("small-initial", "initial backup of small (100,000 files)"),
        ("small-nochange", "small, no change"),
        ("mixed-restore", "restore of mixed")]

runs = collections.defaultdict(dict)        # (scen, tool) -> {round: (wall, cpu, rss_mib)}
for line in open(runs_tsv):
    f = line.rstrip("\n").split("\t")
    parts = f[0].split("/")
    if len(parts) == 4 and parts[0] == run_id and len(f) >= 5:
        runs[parts[1], parts[2]][parts[3]] = (float(f[1]), float(f[2]) + float(f[3]), float(f[4]) / 1024)
sizes = collections.defaultdict(dict)       # (kind, scen, tool) -> {round: bytes}
try:
    for line in open(sizes_tsv):
        k, v = line.rstrip("\n").split("\t")
        parts = k.split("/")
        if len(parts) == 5 and parts[0] == run_id:
            sizes[parts[1], parts[2], parts[3]][parts[4]] = int(v)
except FileNotFoundError:
    pass

load = {}                                   # (scen, tool, round) -> other processes' CPU, in cores
try:
    for line in open(load_tsv):
        f = line.rstrip("\n").split("\t")
        parts = f[0].split("/")
        if len(parts) == 4 and parts[0] == run_id and float(f[2]) > 0:
            load[parts[1], parts[2], parts[3]] = float(f[1]) / float(f[2])
except FileNotFoundError:
    pass


def med(scen, tool, i):
    v = runs.get((scen, tool))
    return st.median(x[i] for x in v.values()) if v else None


def ratio(d_a, d_b, i=None):
    """median, min, max of per-round a/b (dicts round -> value or tuple)."""
    q = [(d_a[r][i] if i is not None else d_a[r]) / (d_b[r][i] if i is not None else d_b[r])
         for r in d_a if r in d_b and (d_b[r][i] if i is not None else d_b[r])]
    return (st.median(q), min(q), max(q), len(q)) if q else None


def fmt_ratio(q):
    return f"{q[0]:.2f} ({q[1]:.2f}..{q[2]:.2f})" if q else "-"


def fmt(v, unit="s", nd=2):
    return "-" if v is None else f"{v:.{nd}f} {unit}".rstrip()


def verdict(q, limit):
    return "-" if q is None else ("PASS" if q[0] <= limit else "FAIL")


out = [f"# obagent vs restic vs borg, {time.strftime('%Y-%m-%d')}", "",
       f"Run `{run_id}`: {ob_version}; peers: {peers}. Each round runs every step for the three tools, "
       f"in an order that rotates from round to round"
       f"{', after one unrecorded warm-up round' if os.environ.get('WARMUP', '1') == '1' else ''}; "
       f"ratios are per round, median (min..max) of {pairs} rounds. "
       "restic: zstd auto; borg: lz4; all encrypted. obagent's wall, CPU and RSS include its detached "
       "worker (bench/reap.c). Sizes: `du -sb` of the vault / repository (local caches not counted).", ""]

# ---- targets
def q_wall(scen, peer="restic"):
    a, b = runs.get((scen, "obagent")), runs.get((scen, peer))
    return ratio(a, b, 0) if a and b else None


def q_size(scen, peer="restic"):
    a, b = sizes.get(("size", scen, "obagent")), sizes.get(("size", scen, peer))
    return ratio(a, b) if a and b else None


rss_rows = []
for scen, _ in SCEN:
    a, b = med(scen, "obagent", 2), med(scen, "restic", 2)
    if a is not None and b:
        rss_rows.append((a / b, scen, a, b))
worst = max(rss_rows) if rss_rows else None
targets = [
    ("initial mixed: wall <= 0.5x restic", q_wall("mixed-initial"), 0.5),
    ("initial mixed: vault size <= 1.05x restic repo", q_size("mixed-initial"), 1.05),
    ("after mutate: wall <= 0.5x restic", q_wall("mixed-mutate"), 0.5),
    ("initial small: wall <= 0.5x restic", q_wall("small-initial"), 0.5),
    ("unchanged small: wall <= 0.2x restic", q_wall("small-nochange"), 0.2),
    ("restore of mixed: wall <= 0.6x restic", q_wall("mixed-restore"), 0.6),
]
out += ["## Targets (obagent / restic)", "", "| target | measured: median (min..max) | verdict |", "|---|---|---|"]
for name, q, lim in targets:
    out.append(f"| {name} | {fmt_ratio(q) if q else 'not run'} | {verdict(q, lim)} |")
if worst:
    fails = [r for r in rss_rows if r[0] > 1]
    out.append(f"| peak RSS <= restic's, every operation | worst {worst[0]:.2f}x ({worst[1]}: "
               f"{worst[2]:.0f} vs {worst[3]:.0f} MiB){'; over in ' + ', '.join(r[1] for r in fails) if fails else ''} "
               f"| {'PASS' if not fails else 'FAIL'} |")
else:
    out.append("| peak RSS <= restic's | not run | - |")

# ---- per scenario
out += ["", "## Wall time (median of rounds) and ratios", "",
        "| scenario | obagent | restic | borg | obagent/restic | obagent/borg |", "|---|---|---|---|---|---|"]
for scen, desc in SCEN:
    if not any((scen, t) in runs for t in TOOLS):
        continue
    out.append(f"| {desc} | " + " | ".join(fmt(med(scen, t, 0)) for t in TOOLS) +
               f" | {fmt_ratio(q_wall(scen))} | {fmt_ratio(q_wall(scen, 'borg'))} |")
out += ["", "## CPU time (user+sys) and peak RSS (median of rounds)", "",
        "| scenario | CPU obagent | CPU restic | CPU borg | CPU obagent/restic | RSS obagent | RSS restic | RSS borg | RSS <= restic |",
        "|---|---|---|---|---|---|---|---|---|"]
for scen, desc in SCEN:
    if not any((scen, t) in runs for t in TOOLS):
        continue
    a, b = runs.get((scen, "obagent")), runs.get((scen, "restic"))
    ra, rb = med(scen, "obagent", 2), med(scen, "restic", 2)
    out.append(f"| {desc} | " + " | ".join(fmt(med(scen, t, 1)) for t in TOOLS) +
               f" | {fmt_ratio(ratio(a, b, 1) if a and b else None)} | " +
               " | ".join(fmt(med(scen, t, 2), "MiB", 0) for t in TOOLS) +
               f" | {'-' if ra is None or not rb else 'PASS' if ra <= rb else 'FAIL'} |")

out += ["", "## Vault / repository size (du -sb, median of rounds)", "",
        "| after | obagent vault | restic repo | borg repo | obagent/restic | obagent home (catalog) |",
        "|---|---|---|---|---|---|"]
for scen in ("mixed-initial", "mixed-nochange", "mixed-mutate", "small-initial"):
    row = [sizes.get(("size", scen, t)) for t in TOOLS]
    if not any(row):
        continue
    cells = ["-" if not r else f"{st.median(r.values()) / 2**20:.1f} MiB" for r in row]
    home = sizes.get(("home-size", scen, "obagent"))
    out.append(f"| {scen} | " + " | ".join(cells) + f" | {fmt_ratio(q_size(scen))} | "
               f"{'-' if not home else f'{st.median(home.values()) / 2**20:.1f} MiB'} |")
grow = []
for t in TOOLS:
    a, b = sizes.get(("size", "mixed-mutate", t)), sizes.get(("size", "mixed-nochange", t))
    if a and b:
        grow.append(f"{t} {st.median(a[r] - b[r] for r in a if r in b) / 2**20:.1f} MiB")
if grow:
    out += ["", "Added to the vault/repo by the backup after mutate: " + ", ".join(grow) + "."]

out += ["", "## Every run (wall s / CPU s / RSS MiB / other load)", "",
        "Other load: CPU used by the rest of the machine during the step (busy time in /proc/stat minus "
        "the step's own CPU), in cores out of 2. Anything well above 0 means another session's work "
        "ran at the same time and the step's figures are disturbed.", ""]
for scen, _ in SCEN:
    for t in TOOLS:
        v = runs.get((scen, t))
        if v:
            out.append(f"- {scen} {t}: " + "; ".join(
                f"{r} {x[0]:.2f}/{x[1]:.2f}/{x[2]:.0f}" + (f"/{load[scen, t, r]:.2f}" if (scen, t, r) in load else "")
                for r, x in sorted(v.items())))
if load:
    busy = sorted(load.values())
    out += ["", f"Other load over all steps: median {st.median(busy):.2f} cores, max {busy[-1]:.2f}; "
            f"{sum(b > 0.25 for b in busy)} of {len(busy)} steps above 0.25."]
print("\n".join(out))
