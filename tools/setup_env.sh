#!/usr/bin/env bash
# Create or update the project's Python environment; safe to re-run.
#
#   tools/setup_env.sh [--with-tests]
#
# Builds .venv (override with DISTILPOSE_VENV) with the pinned stack of
# requirements.txt and the project installed in editable mode. A stamp of the
# requirement files makes a second run return at once.
#
# mmcv 2.1.0 exists only as source: the first run compiles it with its ops
# against the pinned torch (about 15-30 minutes on 2 cores; progress is
# shown). The wheel is kept in ${DISTILPOSE_CACHE:-~/.cache/distilpose},
# keyed by the exact torch and Python versions, so a different torch pin
# never reuses a wheel built against another torch.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV=${DISTILPOSE_VENV:-$ROOT/.venv}
PYTHON=${PYTHON:-python3}
CACHE=${DISTILPOSE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/distilpose}
MMCV_VERSION=2.1.0
MMCV_SHA256=d387bcab66b467479b6660310e23746cfc79c6e57acf04094680adb499a5cd3f
WITH_TESTS=0
[[ "${1:-}" == "--with-tests" ]] && WITH_TESTS=1

say() { printf '[setup] %s\n' "$*" >&2; }

# pip, minus this machine's noise about absent local index folders.
pip_() {
  set +e
  "$VENV/bin/python" -m pip --disable-pip-version-check "$@" 2>&1 |
    grep -v -e "^WARNING: Location '" -e 'requires chumpy, which is not installed' \
      -e 'requires opendatalab, which is not installed'
  local rc=${PIPESTATUS[0]}
  set -e
  return "$rc"
}

pin() { grep -E "^$1==" "$ROOT/requirements.txt" | head -n1; }

stamp_of() {
  cat "$ROOT/requirements.txt" "$ROOT"/requirements/*.txt "$ROOT/setup.cfg" \
    "${BASH_SOURCE[0]}" | sha256sum | cut -d' ' -f1
}
STAMP_FILE=$VENV/.distilpose-setup
STAMP="$(stamp_of)-tests$WITH_TESTS"
if [[ -f $STAMP_FILE && "$(cat "$STAMP_FILE")" == "$STAMP" ]]; then
  exit 0
fi
# An environment with tests also serves runs without them.
if [[ $WITH_TESTS == 0 && -f $STAMP_FILE &&
  "$(cat "$STAMP_FILE")" == "$(stamp_of)-tests1" ]]; then
  exit 0
fi

if [[ ! -x $VENV/bin/python ]]; then
  "$PYTHON" -c 'import sys; assert sys.version_info >= (3, 10), sys.version' ||
    { say "Python >= 3.10 is needed (set PYTHON=...)."; exit 1; }
  say "creating the virtual environment $VENV"
  "$PYTHON" -m venv "$VENV"
fi

say "installing build tools, numpy and torch (first time: ~2 minutes)"
pip_ install -q --upgrade 'pip>=24'
pip_ install -q -r "$ROOT/requirements/build.txt" "$(pin numpy)" \
  "$(pin torch)" "$(pin torchvision)"

# ---------------------------------------------------------------- mmcv --
TORCH_KEY=$("$VENV/bin/python" -c \
  'import sys, torch; print(f"torch{torch.__version__}-cp{sys.version_info[0]}{sys.version_info[1]}")')
MMCV_MARK=$VENV/.mmcv-built-for
WHEEL_DIR=$CACHE/wheels/mmcv-$MMCV_VERSION/$TORCH_KEY

build_mmcv() {
  local work log n_total
  work=$(mktemp -d "$CACHE/build.XXXXXX")
  log=$CACHE/logs/mmcv-$MMCV_VERSION-$TORCH_KEY.log
  mkdir -p "$CACHE/logs"
  say "building mmcv $MMCV_VERSION with its ops against $TORCH_KEY."
  say "This happens once per torch version and takes about 15-30 minutes on"
  say "2 cores; the full log is in $log"
  pip_ download -q --no-deps --no-binary :all: --no-build-isolation \
    "mmcv==$MMCV_VERSION" -d "$work"
  echo "$MMCV_SHA256  $work/mmcv-$MMCV_VERSION.tar.gz" | sha256sum -c --quiet
  tar -xzf "$work/mmcv-$MMCV_VERSION.tar.gz" -C "$work"
  # torch >= 2.10 headers need C++20; mmcv 2.1.0 asks for C++17.
  sed -i "s/extra_compile_args\['cxx'\] = \['-std=c++17'\]/extra_compile_args['cxx'] = ['-std=c++20']/" \
    "$work/mmcv-$MMCV_VERSION/setup.py"
  local start=$SECONDS
  MMCV_WITH_OPS=1 FORCE_CUDA=0 MAX_JOBS=$(nproc) \
    "$VENV/bin/python" -m pip wheel -v --no-deps --no-build-isolation \
    --no-cache-dir "$work/mmcv-$MMCV_VERSION" -w "$work/dist" >"$log" 2>&1 &
  local pid=$! last=""
  while kill -0 "$pid" 2>/dev/null; do
    sleep 20
    n_total=$(grep -oE '^\s*\[[0-9]+/[0-9]+\]' "$log" | tail -n1 | tr -d ' []' || true)
    if [[ -n $n_total && $n_total != "$last" ]]; then
      say "mmcv: compiled $n_total files ($(((SECONDS - start) / 60)) min)"
      last=$n_total
    fi
  done
  if ! wait "$pid"; then
    tail -n 30 "$log" >&2
    say "mmcv build failed; see $log"
    rm -rf "$work"
    return 1
  fi
  mkdir -p "$WHEEL_DIR"
  mv "$work"/dist/mmcv-*.whl "$WHEEL_DIR/"
  rm -rf "$work"
  say "mmcv built in $(((SECONDS - start) / 60)) min"
}

if [[ ! -f $MMCV_MARK || "$(cat "$MMCV_MARK")" != "$TORCH_KEY" ]]; then
  mkdir -p "$CACHE"
  if ! compgen -G "$WHEEL_DIR/mmcv-$MMCV_VERSION-*.whl" >/dev/null; then
    build_mmcv
  fi
  pip_ install -q --no-deps --force-reinstall "$WHEEL_DIR"/mmcv-$MMCV_VERSION-*.whl
  echo "$TORCH_KEY" >"$MMCV_MARK"
fi

# ------------------------------------------------------ the rest -------
say "installing the pinned stack"
# xtcocotools' wheel is built against numpy 1; build it against numpy 2.
pip_ install -q --no-build-isolation --no-binary xtcocotools "$(pin xtcocotools)"
pip_ install -q -r "$ROOT/requirements.txt"
pip_ install -q --no-deps -r "$ROOT/requirements/no-deps.txt"
if [[ $WITH_TESTS == 1 ]]; then
  pip_ install -q -r "$ROOT/requirements/tests.txt"
fi
pip_ install -q --no-deps --no-build-isolation -e "$ROOT"

"$VENV/bin/python" - <<'PY'
import mmcv.ops, mmdet.models, mmpose.models, distilpose  # noqa
print(f'[setup] ready: distilpose {distilpose.__version__}, '
      f'mmpose {__import__("mmpose").__version__}, '
      f'mmcv {mmcv.__version__} (ops), torch {__import__("torch").__version__}')
PY
echo "$STAMP" >"$STAMP_FILE"
