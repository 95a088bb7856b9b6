#!/usr/bin/env python3
"""Scaling figures on a shared machine (BENCHMARKS.md, "Scaling across cores").

Runs each parallel benchmark at -cpu 1 and at -cpu 2, one process per run
(-count 1), and keeps a run only if the rest of the machine used less than
5% of one core meanwhile (/proc/stat busy time minus the run's own CPU
time). Prints, per benchmark, the median ns/op of the kept runs at each
setting and their ratio (-cpu 1 over -cpu 2).

    go test -c -o /tmp/mint.test .
    scripts/scaling.py /tmp/mint.test 'IssuerClientCredentialsParallel$' \\
        'HandlerClientCredentialsParallelReused$' 'ParallelControl$'

Options: -n kept runs wanted per figure (5), -t give up after so many
seconds (600), -benchtime (700ms).
"""
import argparse, os, re, resource, statistics, subprocess, time

HZ = os.sysconf("SC_CLK_TCK")


def busy():
    v = list(map(int, open("/proc/stat").readline().split()[1:]))
    return (sum(v) - v[3] - v[4]) / HZ  # all but idle and iowait


def children_cpu():
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("bench", nargs="+")
    ap.add_argument("-n", type=int, default=5)
    ap.add_argument("-t", type=float, default=600)
    ap.add_argument("-benchtime", default="700ms")
    a = ap.parse_args()
    kept = {(b, c): [] for b in a.bench for c in (1, 2)}
    deadline = time.time() + a.t
    while time.time() < deadline and any(len(v) < a.n for v in kept.values()):
        for (bench, cpu), runs in kept.items():
            if len(runs) >= a.n:
                continue
            b0, c0, t0 = busy(), children_cpu(), time.time()
            out = subprocess.run([a.binary, "-test.run", "^$", "-test.bench", bench, "-test.benchmem",
                                  "-test.count", "1", "-test.cpu", str(cpu), "-test.benchtime", a.benchtime],
                                 capture_output=True, text=True).stdout
            foreign = (busy() - b0) - (children_cpu() - c0)
            m = re.search(r"\s([\d.]+) ns/op", out)
            if m and foreign < 0.05 * (time.time() - t0):
                runs.append(float(m.group(1)))
    for bench in a.bench:
        one, two = kept[(bench, 1)], kept[(bench, 2)]
        if one and two:
            m1, m2 = statistics.median(one), statistics.median(two)
            print(f"{bench:50s} -cpu 1 {m1:9.1f}  -cpu 2 {m2:9.1f}  ratio {m1 / m2:.2f}  kept {len(one)}/{len(two)}")
        else:
            print(f"{bench:50s} not enough quiet runs")


if __name__ == "__main__":
    main()
