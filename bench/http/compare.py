#!/usr/bin/env python3
"""Side-by-side HTTP benchmark driver for bench/http/run.sh.

Starts every contender at once (each on its own free port on 127.0.0.1), then runs ROUNDS rounds;
in each round every contender gets a warm-up and a `wrk -t2 -c64` run, in an order that rotates
from round to round, so load from other work on the machine falls on all of them alike. For each
run it records req/s and the server's CPU time per request (user + system of the server's
processes, from /proc: unlike req/s, this barely moves when other work shares the cores).
Prints every round, then per contender the median and range, and the ratios to the references
computed round by round (a ratio of two runs taken minutes apart would mostly measure the load).

Usage: compare.py DURATION ROUNDS NAME=COMMAND... (COMMAND gets {port}; the first is the reference).
"""
import os, re, signal, socket, statistics, subprocess, sys, time, urllib.request

TICK = os.sysconf("SC_CLK_TCK")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_up(port, proc):
    for _ in range(400):
        if proc.poll() is not None:
            sys.exit(f"server on port {port} exited with {proc.returncode}")
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1).read()
            return
        except OSError:
            time.sleep(0.05)
    sys.exit(f"server on port {port} did not come up")


def tree(pid):
    """pid and its descendants (nginx workers)."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            with open(f"/proc/{p}/task/{p}/children") as f:
                todo += [int(c) for c in f.read().split()]
        except OSError:
            pass
    return out


def cpu_seconds(pid):
    total = 0
    for p in tree(pid):
        try:
            with open(f"/proc/{p}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
        except OSError:
            pass
    return total / TICK


def wrk(port, duration):
    out = subprocess.run(["wrk", "-t2", "-c64", f"-d{duration}", f"http://127.0.0.1:{port}/"],
                         capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    total = int(re.search(r"(\d+) requests in", out).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        sys.exit(f"port {port}: {errors.group(1)} non-2xx responses")
    return rps, total


def main():
    duration, rounds = sys.argv[1], int(sys.argv[2])
    contenders = []
    for spec in sys.argv[3:]:
        name, cmd = spec.split("=", 1)
        contenders.append({"name": name, "cmd": cmd, "rps": [], "cpu": []})
    procs = []
    try:
        for c in contenders:
            c["port"] = free_port()
            c["proc"] = subprocess.Popen(c["cmd"].format(port=c["port"]), shell=True, start_new_session=True,
                                         stdout=subprocess.DEVNULL)
            procs.append(c["proc"])
            wait_up(c["port"], c["proc"])
        width = max(len(c["name"]) for c in contenders)
        print(f"wrk -t2 -c64 -d{duration}, 127.0.0.1, {rounds} rounds, order rotating; load average "
              f"{os.getloadavg()[0]:.1f} at start")
        for r in range(rounds):
            order = contenders[r % len(contenders):] + contenders[:r % len(contenders)]
            for c in order:
                wrk(c["port"], "2s")  # warm-up
                before = cpu_seconds(c["proc"].pid)
                rps, total = wrk(c["port"], duration)
                cpu = cpu_seconds(c["proc"].pid) - before
                c["rps"].append(rps)
                c["cpu"].append(cpu / total * 1e6)
            print(f"round {r + 1} (load {os.getloadavg()[0]:.1f}): " + "   ".join(
                f"{c['name']} {c['rps'][-1]:.0f} req/s {c['cpu'][-1]:.1f} µs CPU/req" for c in contenders), flush=True)
        print()
        print(f"{'':{width}}  {'req/s median (min–max)':>28}  {'server CPU µs/req median':>24}")
        for c in contenders:
            print(f"{c['name']:{width}}  {statistics.median(c['rps']):>10.0f} ({min(c['rps']):.0f}–{max(c['rps']):.0f})"
                  f"{'':4}  {statistics.median(c['cpu']):>16.1f}")
        print()
        for ref in [c for c in contenders if c["name"].startswith("ref:")] or contenders[:1]:
            for c in contenders:
                if c is ref or c["name"].startswith("ref:"):
                    continue
                ratios = [a / b for a, b in zip(c["rps"], ref["rps"])]
                cpu = [b / a for a, b in zip(c["cpu"], ref["cpu"])]
                print(f"{c['name']} / {ref['name']}: req/s ratio median {statistics.median(ratios):.2f} "
                      f"(rounds {', '.join(f'{x:.2f}' for x in ratios)}); CPU efficiency "
                      f"{statistics.median(cpu):.2f}")
    finally:
        for p in procs:
            try:
                os.killpg(p.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        for p in procs:
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)


if __name__ == "__main__":
    main()
