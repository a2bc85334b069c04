#!/usr/bin/env bash
# The minimum-versions job and the newest-Python job, run at the same time: each is one
# pytest process that keeps one core busy, so on CI's two cores the pair takes about
# as long as one. Each job's output goes to its own log, printed when both are done
# (in job order, so the logs do not interleave); fails if either job failed.
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="${1:-$(mktemp -d)}"
mkdir -p "$work"
# Not in these two jobs: the suites that exercise the kernels' indexing and the CUDA
# kernels rather than the Python and library versions (the CUDA simulator, 5-6 min on
# one core; the bounds-checked fuzzing, 2 min), the benchmarks' quick runs and the
# examples. Step 1 runs them all, step 2 the examples again and step 3 a fit on the
# simulator from the wheel; without them CI's three suites fit its two cores in
# about half the time (CI took 45 min with them, on a slow machine).
export SUITE_SKIP="--ignore=tests/test_cuda_simulator.py --ignore=tests/layers/test_boundscheck.py \
--ignore=tests/test_benchmarks.py --ignore=tests/test_examples.py"
"$root/.ci/min_versions.sh" "$work/min" > "$work/min.log" 2>&1 &
min_pid=$!
"$root/.ci/newest_python.sh" "$work/newest" > "$work/newest.log" 2>&1 &
newest_pid=$!
wait "$min_pid"; min_rc=$?
wait "$newest_pid"; newest_rc=$?
for job in min newest; do
    echo "--- $job ($work/$job.log)"
    # pip's notes about this machine's empty local index folders are noise here.
    grep -v "^WARNING: Location 'file:" "$work/$job.log"
done
echo "minimum versions: exit $min_rc; newest Python: exit $newest_rc"
[ "$min_rc" -eq 0 ] && [ "$newest_rc" -eq 0 ]
