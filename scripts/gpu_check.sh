#!/usr/bin/env bash
# The device check in one call: on a machine with a GPU and the project installed (docs/gpu.md says how, with no
# network), build the stand-ins, run `models check`, judge an L1, an fp16 L2 and an L4 reference, calibrate one
# baseline, run `diffagent solve` and the fp16 diagnosis; all of it once without bubblewrap (the read-only
# mount-namespace fallback) and once with it. Writes step logs, JSON results and summary.md into OUT.
#
#   bash scripts/gpu_check.sh [OUT]        # PROFILE=tiny-cuda DEVICE=cuda by default
#   PROFILE=tiny-cpu DEVICE=cpu bash scripts/gpu_check.sh /tmp/check   # the same steps on a CPU (slow)
#   BWRAP_DIR=/tmp/bw/usr/bin              # where a bwrap binary is, for the second pass (default: PATH)
#
# Budget: DEADLINE seconds in all (default 480; the device tool's calls stop at 600). Steps run most important
# first; each has its own timeout, cut to what is left of the deadline, and a step that no longer fits is recorded
# as skipped (rc 125), so the summary is always written. A failed step is recorded, never fatal.
# Order: the bubblewrap pass (the sandbox a user with bwrap gets), the extended suite's families and GPU-only
# methods (float8), the fp16 diagnosis, then the mount-namespace fallback pass.
set -u
OUT=${1:-${OUT:-gpu-check-out}}
PROFILE=${PROFILE:-tiny-cuda}
DEVICE=${DEVICE:-cuda}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
export PYTHONUNBUFFERED=1 DIFFBENCH_HOME=${DIFFBENCH_HOME:-/tmp/diffbench-gpu-check-home}  # stand-ins stay out of OUT
SUMMARY_TSV=$OUT/steps.tsv
: > "$SUMMARY_TSV"
T0=$(date +%s)
DEADLINE=${DEADLINE:-480}
here=$(cd "$(dirname "$0")" && pwd)

# step NAME PASS TIMEOUT COMMAND...: runs it, logs to OUT/NAME.log, records rc and seconds.
step() {
  local name=$1 pass=$2 limit=$3
  shift 3
  local start=$(date +%s)
  local left=$(( DEADLINE - (start - T0) ))
  if [ "$left" -lt 20 ]; then
    echo "=== [$(( start - T0 ))s] $name ($pass): skipped, past the deadline"
    printf '%s\t%s\t125\t0\n' "$name" "$pass" >> "$SUMMARY_TSV"
    return
  fi
  [ "$limit" -gt "$left" ] && limit=$left
  echo "=== [$(( start - T0 ))s] $name ($pass)"
  timeout --kill-after=5 "$limit" "$@" > "$OUT/$name.out" 2> "$OUT/$name.log"
  local rc=$?
  local took=$(( $(date +%s) - start ))
  printf '%s\t%s\t%s\t%s\n' "$name" "$pass" "$rc" "$took" >> "$SUMMARY_TSV"
  echo "--- rc=$rc in ${took}s"
  tail -n 3 "$OUT/$name.log"
}

reference() {  # reference NAME TASK: the task's reference module as a file
  python3 -c "import sys; from diffbench.tasks.suite import get_task; print(get_task(sys.argv[1]).reference_code)" \
    "$2" > "$OUT/$1.py"
}

python3 - <<'PY' > "$OUT/device.txt"
import platform, torch
name = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no CUDA device"
print(f"{name}; torch {torch.__version__} (CUDA {torch.version.cuda}); Python {platform.python_version()}")
PY
cat "$OUT/device.txt"
REQUEST="Take an SD1.5 pipeline (DDIM, 50 steps) as the baseline and reach a 2.5x speedup with at most 5% quality loss"
reference l1 L1-001
reference l2_fp16 L2-012
reference l4 L4-002
P=(--profile "$PROFILE" --device "$DEVICE")

step build setup 300 diffbench models build --profile tiny-cpu
# The L4 task needs this profile's targets: a short calibration of its baseline (written into the task data),
# only where the profile has none (a calibration with other settings would replace a profile's whole record).
if python3 -c "import sys; from diffbench.tasks.suite import get_task; sys.exit('$PROFILE' in get_task('L4-002').targets)"; then
  step calibrate setup 300 diffbench calibrate "${P[@]}" --only L4-002 --trials 2 --samples 2 --json
fi

FLUX_REQUEST="Accelerate FLUX.1-dev by 2x with at most 5% quality loss"
reference x2_fbc X2-003
reference x2_cachedit X2-002

for pass in bwrap no-bwrap; do
  if [ "$pass" = bwrap ]; then
    unset DIFFBENCH_SANDBOX
    export PATH=${BWRAP_DIR:+$BWRAP_DIR:}$PATH
    if ! command -v bwrap > /dev/null; then
      echo "no bwrap for the bubblewrap pass"; printf 'bwrap\t%s\t127\t0\n' "$pass" >> "$SUMMARY_TSV"; continue
    fi
  else
    export DIFFBENCH_SANDBOX=mount-namespace  # the fallback a host without (working) bubblewrap gets
  fi
  ids=(--id stable-diffusion-v1-5/stable-diffusion-v1-5 --id black-forest-labs/FLUX.1-dev)
  [ "$pass" = bwrap ] && ids=()  # every id, the extended suite's included, once
  step "models-check-$pass" "$pass" 240 diffbench models check "${P[@]}" --steps 5 --json "${ids[@]}"
  step "eval-l1-$pass" "$pass" 150 diffbench eval L1-001 "$OUT/l1.py" "${P[@]}" --samples 3 --json --out "$OUT/e-l1-$pass"
  [ "$pass" = bwrap ] && step "eval-l2-fp16-$pass" "$pass" 150 diffbench eval L2-012 "$OUT/l2_fp16.py" "${P[@]}" \
    --samples 3 --json --out "$OUT/e-l2-$pass"
  step "eval-l4-$pass" "$pass" 200 diffbench eval L4-002 "$OUT/l4.py" "${P[@]}" --samples 5 --reps 2 --json \
    --out "$OUT/e-l4-$pass"
  step "solve-$pass" "$pass" 200 diffagent solve "$REQUEST" "${P[@]}" --out "$OUT/solve-$pass" --samples 2
  if [ "$pass" = bwrap ]; then
    # The extended suite (issue 17): the GPU-only float8 method beside the caches on the FLUX.1 stand-ins, two
    # level-2 references, and the FLUX solve request.
    step methods-check-flux extended 200 diffbench methods check --family flux "${P[@]}" -m torchao_float8 \
      -m first_block_cache -m cache_dit -m torchao_int8 --reps 3 --json
    step eval-x2-fbc-bwrap extended 150 diffbench eval X2-003 "$OUT/x2_fbc.py" "${P[@]}" --samples 3 --json \
      --out "$OUT/e-x2-fbc"
    step eval-x2-cachedit-bwrap extended 150 diffbench eval X2-002 "$OUT/x2_cachedit.py" "${P[@]}" --samples 3 \
      --json --out "$OUT/e-x2-cachedit"
    step solve-flux extended 200 diffagent solve "$FLUX_REQUEST" "${P[@]}" --out "$OUT/solve-flux" --samples 2
    step fp16-diagnosis diagnosis 120 python3 "$here/fp16_diagnosis.py" --device "$DEVICE" --json "$OUT/fp16.json"
  fi
done
python3 "$here/gpu_check_summary.py" "$OUT" > "$OUT/summary.md"
cat "$OUT/summary.md"
