#!/usr/bin/env bash
# The GPU suite on a machine that has torch and torchvision but no registry: the one command to run there,
# from the repository root, with the wheels of everything else in .whl/ (see bench/RESULTS.md, "GPU suite").
#
#   bash bench/gpu_device.sh                 # writes $OUT/gpu_suite.json and $OUT/gpu_suite.log
#   bash bench/gpu_device.sh --only resume   # any further arguments go to bench/gpu_suite.py
#
# Environment: OUT (default bench/results), WHEELS (default .whl), PYTHON (default python3),
# BUDGET_S (default 360), SITE (default /tmp/site: where the wheels are installed).
# torch and torchvision are the machine's: a wheel of either in $WHEELS is refused (it would replace the
# build that matches the machine's driver). The rs-clip packages are imported from this checkout's
# sources; their wheels only supply the installed metadata (versions).
set -uo pipefail

OUT="${OUT:-bench/results}"
WHEELS="${WHEELS:-.whl}"
PYTHON="${PYTHON:-python3}"
SITE="${SITE:-/tmp/site}"
mkdir -p "$OUT"

if ls "$WHEELS" | grep -Eq '^(torch|torchvision)-'; then
  echo "gpu_device.sh: $WHEELS holds a torch or torchvision wheel; those must be the machine's own" >&2
  exit 2
fi
"$PYTHON" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target "$SITE" \
  "$WHEELS"/*.whl || { echo "gpu_device.sh: installing $WHEELS/*.whl failed" >&2; exit 2; }

src="$PWD/packages"
export PYTHONPATH="$src/rs-formats/src:$src/rs-clip-train/src:$src/rs-clip-eval/src:$SITE"
export PYTHONUNBUFFERED=1 OMP_NUM_THREADS=1 TORCH_EXTENSIONS_DIR="${TORCH_EXTENSIONS_DIR:-/tmp/torch_extensions}"
unset DS_ACCELERATOR  # DeepSpeed picks CUDA itself where there is a GPU

"$PYTHON" - <<'EOF'
import importlib.metadata as md, platform, torch
names = ["torch", "torchvision", "open_clip_torch", "deepspeed", "pyarrow", "rs-formats", "rs-clip-train"]
print("python", platform.python_version(), "|", ", ".join(f"{n} {md.version(n)}" for n in names))
print("cuda", torch.version.cuda, "| device:", torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none")
EOF
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.sm --format=csv,noheader 2>/dev/null || true

"$PYTHON" bench/gpu_suite.py --out "$OUT/gpu_suite.json" --budget-s "${BUDGET_S:-360}" "$@" 2>&1 \
  | tee "$OUT/gpu_suite.log"
