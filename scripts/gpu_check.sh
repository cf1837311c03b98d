#!/usr/bin/env bash
# The device check in one call: on a machine with a GPU and the project installed (docs/gpu.md says how, with no
# network), build the stand-ins, run `models check`, judge paper and extended-suite references (L1, fp16 L2, two
# FLUX.1 caches, L4), check float8 and the caches on the FLUX.1 stand-ins, run `diffagent solve` on a FLUX and an
# SD1.5 request, the fp16 diagnosis and one calibration; with bubblewrap, then a few steps with the read-only
# mount-namespace fallback.
#
#   bash scripts/gpu_check.sh [OUT]        # PROFILE=tiny-cuda DEVICE=cuda by default
#   PROFILE=tiny-cpu DEVICE=cpu bash scripts/gpu_check.sh /tmp/check   # the same steps on a CPU (slow)
#   BWRAP_DIR=/tmp/bw/usr/bin              # where a bwrap binary is, for the bubblewrap pass (default: PATH)
#
# OUT receives three files, rewritten after every step: summary.md, steps.tsv and check.tar.gz (every step's log
# and JSON output, the solve reports; no images). The device tool returns at most 8 files from its OUT (2026-11-28:
# a check that wrote ~40 files there got 8 of them back, none of the failing step's logs), so everything else is
# written to a work folder outside OUT (WORK, default a fresh folder under /tmp).
#
# Budget: DEADLINE seconds in all (default 480; the device tool's calls stop at 600). Steps run most important
# first; each has its own timeout, cut to what is left of the deadline, and a step that no longer fits is recorded
# as skipped (rc 125). A failed step is recorded, never fatal. Measured on an H200 (docs/gpu.md): building the
# stand-ins 23 s, the L4 calibration 184 s, so the calibration and the level-4 steps come last.
set -u
OUT=${1:-${OUT:-gpu-check-out}}
PROFILE=${PROFILE:-tiny-cuda}
DEVICE=${DEVICE:-cuda}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
WORK=${WORK:-$(mktemp -d /tmp/gpu-check.XXXXXX)}
mkdir -p "$WORK"
export PYTHONUNBUFFERED=1 DIFFBENCH_HOME=${DIFFBENCH_HOME:-$WORK/home}
SUMMARY_TSV=$WORK/steps.tsv
: > "$SUMMARY_TSV"
T0=$(date +%s)
DEADLINE=${DEADLINE:-480}
here=$(cd "$(dirname "$0")" && pwd)

# publish: the summary so far, and the work folder packed (no images, no stand-ins), into OUT.
publish() {
  python3 "$here/gpu_check_summary.py" "$WORK" > "$OUT/summary.md" 2> "$WORK/summary.log"
  cp "$SUMMARY_TSV" "$OUT/steps.tsv"
  tar -czf "$OUT/check.tar.gz" -C "$WORK" --exclude=home --exclude='*.png' --exclude=__pycache__ \
    --exclude='*.safetensors' --exclude='*.ses' . 2> /dev/null
}

# step NAME PASS TIMEOUT COMMAND...: runs it, logs to WORK/NAME.log, records rc and seconds, publishes.
step() {
  local name=$1 pass=$2 limit=$3
  shift 3
  local start=$(date +%s)
  local left=$(( DEADLINE - (start - T0) ))
  if [ "$left" -lt 20 ]; then
    echo "=== [$(( start - T0 ))s] $name ($pass): skipped, past the deadline"
    printf '%s\t%s\t125\t0\n' "$name" "$pass" >> "$SUMMARY_TSV"
    publish
    return
  fi
  [ "$limit" -gt "$left" ] && limit=$left
  echo "=== [$(( start - T0 ))s] $name ($pass)"
  timeout --kill-after=5 "$limit" "$@" > "$WORK/$name.out" 2> "$WORK/$name.log"
  local rc=$?
  local took=$(( $(date +%s) - start ))
  printf '%s\t%s\t%s\t%s\n' "$name" "$pass" "$rc" "$took" >> "$SUMMARY_TSV"
  echo "--- rc=$rc in ${took}s"
  tail -n 3 "$WORK/$name.log"
  publish
}

reference() {  # reference NAME TASK: the task's reference module as a file
  python3 -c "import sys; from diffbench.tasks.suite import get_task; print(get_task(sys.argv[1]).reference_code)" \
    "$2" > "$WORK/$1.py"
}

python3 - <<'PY' > "$WORK/device.txt"
import platform, torch
name = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no CUDA device"
print(f"{name}; torch {torch.__version__} (CUDA {torch.version.cuda}); Python {platform.python_version()}")
PY
cat "$WORK/device.txt"
REQUEST="Take an SD1.5 pipeline (DDIM, 50 steps) as the baseline and reach a 2.5x speedup with at most 5% quality loss"
reference l1 L1-001
reference l2_fp16 L2-012
reference l4 L4-002
P=(--profile "$PROFILE" --device "$DEVICE")

FLUX_REQUEST="Accelerate FLUX.1-dev by 2x with at most 5% quality loss"
reference x2_fbc X2-003
reference x2_cachedit X2-002

step build setup 300 diffbench models build --profile tiny-cpu

use_sandbox() {  # use_sandbox bwrap|no-bwrap: 1 when that sandbox cannot be had here
  if [ "$1" = bwrap ]; then
    unset DIFFBENCH_SANDBOX
    export PATH=${BWRAP_DIR:+$BWRAP_DIR:}$PATH
    command -v bwrap > /dev/null && return 0
    echo "no bwrap for the bubblewrap pass"; printf 'bwrap\tbwrap\t127\t0\n' >> "$SUMMARY_TSV"; return 1
  fi
  export DIFFBENCH_SANDBOX=mount-namespace  # the fallback a host without (working) bubblewrap gets
}

W=$WORK
if use_sandbox bwrap; then
  step models-check-bwrap bwrap 150 diffbench models check "${P[@]}" --steps 5 --json \
    --id stable-diffusion-v1-5/stable-diffusion-v1-5 --id black-forest-labs/FLUX.1-dev \
    --id stabilityai/stable-diffusion-3.5-medium
  step eval-l1-bwrap bwrap 100 diffbench eval L1-001 "$W/l1.py" "${P[@]}" --samples 3 --json --out "$W/e-l1-bwrap"
  step eval-l2-fp16-bwrap bwrap 100 diffbench eval L2-012 "$W/l2_fp16.py" "${P[@]}" --samples 3 --json \
    --out "$W/e-l2-bwrap"
  # The extended suite (issue 17): two FLUX.1-dev cache references, the GPU-only float8 method beside a cache
  # on the FLUX.1 stand-ins, the FLUX solve request.
  step eval-x2-fbc-bwrap bwrap 100 diffbench eval X2-003 "$W/x2_fbc.py" "${P[@]}" --samples 3 --json \
    --out "$W/e-x2-fbc"
  step eval-x2-cachedit-bwrap bwrap 100 diffbench eval X2-002 "$W/x2_cachedit.py" "${P[@]}" --samples 3 --json \
    --out "$W/e-x2-cachedit"
  step methods-check-flux bwrap 150 diffbench methods check --family flux "${P[@]}" -m torchao_float8 \
    -m first_block_cache --reps 3 --json
  step solve-flux bwrap 150 diffagent solve "$FLUX_REQUEST" "${P[@]}" --out "$W/solve-flux" --samples 2
fi
step fp16-diagnosis diagnosis 90 python3 "$here/fp16_diagnosis.py" --device "$DEVICE" --json "$W/fp16.json"
# The L4 task needs this profile's targets: a short calibration of its baseline (written into the task data),
# only where the profile has none (a calibration with other settings would replace a profile's whole record).
if python3 -c "import sys; from diffbench.tasks.suite import get_task; sys.exit('$PROFILE' in get_task('L4-002').targets)"; then
  step calibrate setup 240 diffbench calibrate "${P[@]}" --only L4-002 --trials 2 --samples 2 --json
fi
for pass in bwrap no-bwrap; do
  use_sandbox "$pass" || continue
  [ "$pass" = no-bwrap ] && step eval-l1-no-bwrap no-bwrap 100 diffbench eval L1-001 "$W/l1.py" "${P[@]}" \
    --samples 3 --json --out "$W/e-l1-no-bwrap"
  step "eval-l4-$pass" "$pass" 150 diffbench eval L4-002 "$W/l4.py" "${P[@]}" --samples 5 --reps 2 --json \
    --out "$W/e-l4-$pass"
  step "solve-$pass" "$pass" 150 diffagent solve "$REQUEST" "${P[@]}" --out "$W/solve-$pass" --samples 2
done
publish
cat "$OUT/summary.md"
