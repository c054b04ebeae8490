#!/usr/bin/env bash
# Install the Debian packages the ASR recipe needs (idempotent: only missing ones are installed).
set -euo pipefail
PKGS=(python3-torch python3-onnx python3-numpy espeak-ng flite festival festvox-kallpc16k festvox-kdlpc16k
      festvox-us-slt-hts sox ffmpeg pocketsphinx pocketsphinx-en-us python3-pocketsphinx asterisk-core-sounds-en asterisk-core-sounds-en-wav nodejs)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends "${missing[@]}"
else
  echo "all recipe packages present"
fi
# onnxruntime-node is resolved from the repository root node_modules (npm ci at the repo root;
# export ONNXRUNTIME_NODE_INSTALL=skip so its postinstall does not try to download CUDA binaries).
ROOT="$(cd "$(dirname "$0")/../../.." && pwd)"
if [ ! -d "$ROOT/node_modules/onnxruntime-node" ]; then
  echo "WARNING: $ROOT/node_modules/onnxruntime-node missing: run 'ONNXRUNTIME_NODE_INSTALL=skip npm ci' at the repo root" >&2
fi
/usr/bin/python3 -c "import torch, onnx, numpy; print('torch', torch.__version__, 'onnx', onnx.__version__)"
