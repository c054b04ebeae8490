#!/usr/bin/env bash
# One command: corpus -> train (resumable) -> export -> evaluate -> test fixtures.
#   models/recipes/asr/run.sh            # default run (about 2 hours on 2 CPU cores)
# Environment knobs (defaults = the published model):
#   TRAIN_MINUTES=85   training wall-clock budget (rerun resumes from work/ckpt/last.pt)
#   N_SYNTH=16000      synthetic training utterances to render
#   STAGE=all          or one of: setup corpus train export eval fixtures
#   SKIP_SETUP=1       skip apt checks
#   TRAIN_ARGS="..."   more train.py flags, e.g. a warm start from the published model:
#                      TRAIN_ARGS="--init-onnx ../../asr-en-telephony/model.onnx --lr 2e-4 --warmup 20 --freeze-bn 1 --pseudo-frac 0.25"
#   PS_MAX_SYNTH=0     run pocketsphinx on only the first N held-out synthetic utterances (0 = all; it is slow)
#   SHERPA_ONNX_NODE_PATH=/path/to/node_modules/sherpa-onnx-node   optional cross-check with sherpa-onnx-node
#                      (used automatically when the repo root node_modules has sherpa-onnx-node)
# Training is time-budgeted: the learning-rate schedule (warm-up, cosine) follows elapsed/TRAIN_MINUTES, and
# rerunning resumes from the last checkpoint (saved every 3 minutes) until the budget is used up.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
cd "$HERE"
PY=/usr/bin/python3
TRAIN_MINUTES="${TRAIN_MINUTES:-85}"
N_SYNTH="${N_SYNTH:-16000}"
STAGE="${STAGE:-all}"
CKPT_DIR="${CKPT_DIR:-$HERE/work/ckpt}"
mkdir -p work/logs
want() { [ "$STAGE" = all ] || [ "$STAGE" = "$1" ]; }
if want setup && [ "${SKIP_SETUP:-0}" != 1 ]; then ./setup.sh; fi
if want corpus; then $PY corpus.py --n-synth "$N_SYNTH" 2>&1 | tee -a work/logs/corpus.log; fi
if want train; then $PY train.py --ckpt-dir "$CKPT_DIR" --minutes "$TRAIN_MINUTES" ${TRAIN_ARGS:-} 2>&1 | tee -a work/logs/train.log; fi
if want export; then $PY export.py --ckpt "$CKPT_DIR/last.pt" 2>&1 | tee -a work/logs/export.log; fi
if want eval; then $PY eval.py --ps-max-synth "${PS_MAX_SYNTH:-0}" 2>&1 | tee -a work/logs/eval.log; fi
if want fixtures; then $PY make_fixtures.py 2>&1 | tee -a work/logs/fixtures.log; fi
