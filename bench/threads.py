#!/usr/bin/env python3
"""threads.py CMD...: run CMD (`obagent backup`; with SAMPLE=command, a foreground command such as
`obagent restore`, is sampled itself) and sample the threads of every process it leaves
behind (the detached `obagent run-job` worker) from /proc every 0.1 s.

Like reap.c it makes itself a child subreaper, so the worker is re-parented to it and can be found
(and waited for). Prints a once-a-second timeline (client phase, worker RSS, CPU % per thread, read
and written bytes) and then each thread's total user+sys CPU time. Threads are numbered in creation order (t1 is the
process's main thread); which engine thread is which follows from the code of the revision
measured (native/jobs/jobs.c, backup.c, restore.c): a thread with mostly system time writes or reads.
"""
import ctypes, os, subprocess, sys, threading, time

TICK = os.sysconf("SC_CLK_TCK")
ROLES = ["t1 main"] + [f"t{i}" for i in range(2, 33)]


def stat(path):
    """(comm, utime_s, stime_s) from a /proc stat file, or None."""
    try:
        s = open(path).read()
    except OSError:
        return None
    comm, rest = s[s.index("(") + 1:s.rindex(")")], s[s.rindex(")") + 2:].split()
    return comm, int(rest[11]) / TICK, int(rest[12]) / TICK, int(rest[1]), rest[0]  # utime stime ppid state


def status(pid, key):
    try:
        for line in open(f"/proc/{pid}/status"):
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def io(pid):
    try:
        return {k: int(v) for k, v in (l.split(": ") for l in open(f"/proc/{pid}/io"))}
    except OSError:
        return {}


def main():
    if ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0) != 0:   # PR_SET_CHILD_SUBREAPER
        sys.exit("prctl(PR_SET_CHILD_SUBREAPER) failed")
    me, t0 = os.getpid(), time.monotonic()
    client = subprocess.Popen(sys.argv[1:], stdout=subprocess.PIPE, text=True)
    phase = ["start"]
    out_lines = []

    def follow():
        for line in client.stdout:
            out_lines.append(f"{time.monotonic() - t0:7.2f}s  {line.rstrip()}")
            phase[0] = line.strip()[:40]
    threading.Thread(target=follow, daemon=True).start()

    threads, order, worker, hwm, last_io = {}, [], None, 0, {}
    prev, next_print = {}, 1.0
    print(f"{'t':>5s} {'phase':30s} {'RSS MiB':>7s}  CPU % per thread (creation order)   read/written MiB")
    while True:
        if worker is None and os.environ.get("SAMPLE") == "command":   # a foreground command (restore)
            worker = client.pid
        if worker is None:
            for p in os.listdir("/proc"):
                if p.isdigit() and int(p) != client.pid:
                    s = stat(f"/proc/{p}/stat")
                    if s and s[3] == me:
                        worker = int(p)
                        break
        ws = stat(f"/proc/{worker}/stat") if worker is not None else None
        alive = ws is not None and ws[4] not in "ZX"          # an exited, unreaped worker is a zombie
        if alive:
            try:
                tids = sorted(int(t) for t in os.listdir(f"/proc/{worker}/task"))
            except OSError:
                tids = []
            for tid in tids:
                s = stat(f"/proc/{worker}/task/{tid}/stat")
                if s:
                    if tid not in threads:
                        order.append(tid)
                    threads[tid] = s
            hwm = max(hwm, status(worker, "VmHWM"))
            last_io = io(worker) or last_io
        now = time.monotonic() - t0
        if alive and now >= next_print:
            cpu = []
            for tid in order:
                tot = threads[tid][1] + threads[tid][2]
                cpu.append(f"{100 * (tot - prev.get(tid, 0)):4.0f}")
                prev[tid] = tot
            print(f"{now:5.1f} {phase[0]:30s} {status(worker, 'VmRSS') / 1024:7.0f}  {' '.join(cpu):34s} "
                  f"{last_io.get('rchar', 0) / 2**20:6.0f}/{last_io.get('wchar', 0) / 2**20:.0f}", flush=True)
            next_print += 1.0
        if worker == client.pid and client.poll() is not None:
            break
        if client.poll() is not None and not alive:
            break
        time.sleep(0.1)
    rus = []
    while True:
        try:
            pid, st, ru = os.wait4(-1, 0)
            rus.append((pid, ru))
        except ChildProcessError:
            break
    wall = time.monotonic() - t0
    print("\nclient output:")
    print("\n".join(out_lines))
    print(f"\nwall {wall:.2f} s (until the worker exited); worker VmHWM {hwm / 1024:.0f} MiB; "
          f"worker read {last_io.get('rchar', 0) / 2**20:.0f} MiB, wrote {last_io.get('wchar', 0) / 2**20:.0f} MiB "
          f"(write_bytes to disk {last_io.get('write_bytes', 0) / 2**20:.0f} MiB)")
    print("worker threads (last sample, up to 0.1 s before exit):")
    total = 0
    for i, tid in enumerate(order):
        comm, u, s = threads[tid][:3]
        total += u + s
        print(f"  {ROLES[i] if i < len(ROLES) else 'thread-' + str(i):18s} tid {tid:7d} {comm:15s} "
              f"user {u:6.2f} s  sys {s:6.2f} s  busy {100 * (u + s) / wall:3.0f}% of wall")
    print(f"  {'sum':18s} {'':27s} {total:.2f} s CPU over {wall:.2f} s wall = {total / wall:.2f} cores")
    for pid, ru in rus:
        print(f"rusage pid {pid} ({'client' if pid == client.pid else 'worker'}): user {ru.ru_utime:.2f} s "
              f"sys {ru.ru_stime:.2f} s maxrss {ru.ru_maxrss / 1024:.0f} MiB")
    sys.exit(client.returncode)


main()
