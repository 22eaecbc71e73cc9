#!/usr/bin/env bash
# Client benchmarks (figures go to docs/benchmarks.md, "## Client"):
#   1. `crm customer add` process wall time, median of N runs (empty replica
#      and the big one);
#   2. `crm import` of 100,000 customers and 300,000 activities (rows/s);
#   3. `crm search` over that replica: process wall time per query (median),
#      and the query alone in-process (bench_client_search).
# Data: bench_client_gen.py, seeded. Build first (Release, no sanitizers):
#   cmake -S . -B build-rel -DCMAKE_BUILD_TYPE=Release && cmake --build build-rel
# usage: bench/bench_client.sh BUILD_DIR [--customers N] [--activities N] [--runs N]
set -eu
BUILD=${1:?usage: bench_client.sh BUILD_DIR [--customers N] [--activities N] [--runs N]}
shift
NC=100000 NA=300000 RUNS=101
while [ $# -gt 0 ]; do
  case $1 in
    --customers) NC=$2; shift 2 ;;
    --activities) NA=$2; shift 2 ;;
    --runs) RUNS=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
HERE=$(cd "$(dirname "$0")" && pwd)
CRM=$BUILD/crm
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
export TZ=Asia/Shanghai

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "sqlite $(sqlite3 --version 2>/dev/null | cut -d' ' -f1)"

# median_ms RUNS CMD...: process wall time of CMD (stdout discarded), median and
# p90 over RUNS, and its CPU time (the machine is shared: wall time includes
# waiting for a core).
median_ms() {
  python3 - "$@" <<'PY'
import subprocess, sys, time
runs = int(sys.argv[1]); cmd = sys.argv[2:]
import resource
ts, cpu = [], []
for i in range(runs):
    c = [a.replace("{i}", str(i)).replace("{p}", "%08d" % i) for a in cmd]
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    r = subprocess.run(c, stdout=subprocess.DEVNULL)
    ts.append((time.perf_counter() - t0) * 1000)
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu.append((r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime) * 1000)
    if r.returncode != 0:
        sys.exit("failed: %s" % " ".join(c))
ts.sort()
cpu.sort()
print("wall median %.1f ms, p90 %.1f ms; cpu (user+sys) median %.1f ms  (%d runs)" %
      (ts[len(ts) // 2], ts[int(len(ts) * 0.9)], cpu[len(cpu) // 2], runs))
PY
}

echo
echo "== crm --version (process start-up: loading crm and its libraries)"
median_ms "$RUNS" "$CRM" --version

echo
echo "== crm customer add, empty replica"
export CRM_HOME=$W/small
"$CRM" customer list >/dev/null   # create and migrate once, as on first use
median_ms "$RUNS" "$CRM" customer add --name "测试客户{i}" --phone "139{p}" --city 深圳

echo
echo "== generate $NC customers, $NA activities (seed 1)"
python3 "$HERE/bench_client_gen.py" "$W/data" --customers "$NC" --activities "$NA" --seed 1

export CRM_HOME=$W/big
"$CRM" customer list >/dev/null
echo
echo "== crm import customers ($NC rows)"
python3 - "$CRM" "$W/data/customers.csv" "$NC" <<'PY'
import resource, subprocess, sys, time
t0 = time.perf_counter()
subprocess.run([sys.argv[1], "import", "customers", sys.argv[2]], check=True)
dt = time.perf_counter() - t0
r = resource.getrusage(resource.RUSAGE_CHILDREN)
cpu = r.ru_utime + r.ru_stime
n = int(sys.argv[3])
print("wall %.1f s = %.0f rows/s; cpu %.1f s = %.0f rows/s per core" % (dt, n / dt, cpu, n / cpu))
PY
echo
echo "== crm import activities ($NA rows)"
python3 - "$CRM" "$W/data/activities.csv" "$NA" <<'PY'
import resource, subprocess, sys, time
t0 = time.perf_counter()
subprocess.run([sys.argv[1], "import", "activities", sys.argv[2]], check=True)
dt = time.perf_counter() - t0
r = resource.getrusage(resource.RUSAGE_CHILDREN)
cpu = r.ru_utime + r.ru_stime
n = int(sys.argv[3])
print("wall %.1f s = %.0f rows/s; cpu %.1f s = %.0f rows/s per core" % (dt, n / dt, cpu, n / cpu))
PY
ls -l "$CRM_HOME"/replica.db | awk '{printf "replica.db: %.0f MB\n", $5 / 1e6}'

echo
echo "== crm customer add, replica of $NC customers"
median_ms "$RUNS" "$CRM" customer add --name "测试客户{i}" --phone "139{p}" --city 深圳

# Queries: Chinese 2 characters (LIKE scan), Chinese 4 characters, digits of a
# phone, English, and 2-character queries that match nothing (a full scan).
QUERIES=(华信 华信科技 深圳市华信 00138 13800 acme "Acme Trading" 拜访 无此 zz)
echo
echo "== crm search, process wall time (median of 21 runs each)"
for q in "${QUERIES[@]}"; do
  printf '%-14s ' "$q"
  median_ms 21 "$CRM" search "$q"
done
echo
echo "== search_run() in-process (bench_client_search, 20 repeats each, limit 50)"
"$BUILD/bench/bench_client_search" --db "$CRM_HOME/replica.db" --repeat 20 "${QUERIES[@]}"
