#!/usr/bin/env bash
# Prepares .gpu/ in this checkout for a GPU machine with no network (docs/gpu.md): wheels for Python 3.12 of every
# package in constraints.txt that such a machine lacks, at exactly the versions tested here (no dependency
# resolution, so torch and its CUDA wheels are never fetched), Debian's bubblewrap package, and .gpu/run.sh, which
# installs them there, then runs scripts/gpu_check.sh. Run from the checkout's root; `.gpu/` is git-ignored.
set -euo pipefail
mkdir -p .gpu/whl
plat=(--only-binary=:all: --python-version 3.12 --implementation cp --no-deps)
for p in manylinux_2_17_x86_64 manylinux2014_x86_64 manylinux_2_28_x86_64 manylinux_2_24_x86_64 manylinux_2_31_x86_64 \
  manylinux_2_34_x86_64 any; do
  plat+=(--platform "$p")
done
# What a CUDA image with torch already has (docs/gpu.md lists the lent machine's): keep its builds.
have='^(torch|nvidia-.*|cuda-.*|triton|numpy|sympy|mpmath|networkx|scipy|pillow|psutil|requests|certifi|'
have+='charset-normalizer|idna|urllib3|packaging|filelock|fsspec|jinja2|markupsafe|pyyaml|scikit-image|imageio|'
have+='tifffile|lazy-loader|opencv-python-headless|matplotlib|contourpy|fonttools|kiwisolver|cycler|pyparsing|'
have+='python-dateutil|six)=='
grep -v '^#' constraints.txt | tr 'A-Z_' 'a-z-' | grep -vE "$have" | grep -vE '^(pytest|ruff|ray|playwright|iniconfig|pluggy|greenlet|pyee|msgpack|protobuf|jsonschema|jsonschema-specifications|referencing|rpds-py|attrs|aiosignal|frozenlist|grpcio)==' \
  > .gpu/pins.txt
python3 -m pip download -q "${plat[@]}" -d .gpu/whl -r .gpu/pins.txt
( cd .gpu && { apt-get download bubblewrap > /dev/null 2>&1 || echo "note: bubblewrap .deb not downloaded" >&2; } )
cat > .gpu/run.sh <<'EOF'
#!/usr/bin/env bash
# On the GPU machine, from the checkout's root: install the wheels and the project (keeping the machine's torch),
# then the device check, without and with bubblewrap. Everything lands in $OUT (or .gpu/out).
set -u
OUT=${OUT:-.gpu/out}
mkdir -p "$OUT"
{
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir .gpu/whl/*.whl 2>&1 | tail -3
python3 -m pip install -q --no-index --no-deps --no-build-isolation . 2>&1 | tail -3
export PATH=$(dirname "$(python3 -c 'import sys; print(sys.executable)')"):$PATH
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv
mkdir -p /tmp/bw && dpkg -x .gpu/bubblewrap_*.deb /tmp/bw
BWRAP_DIR=/tmp/bw/usr/bin bash scripts/gpu_check.sh "$OUT"
} 2>&1 | tee "$OUT/log.txt"
EOF
du -sh .gpu
