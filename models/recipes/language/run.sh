#!/usr/bin/env bash
# One command: corpus -> train (resumable, time-budgeted) -> export -> evaluate on the held-out speakers.
#   models/recipes/language/run.sh
# Environment knobs (defaults = the published model):
#   TRAIN_MINUTES=45   wall-clock budget (rerun resumes from work/ckpt/last.pt)
#   N_SYNTH=260        espeak-ng utterances per tag
#   PSEUDO=0           pseudo-speakers per real speaker (corpus.py --pseudo; the published model had none)
#   STAGE=all          or one of: corpus train export eval
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
cd "$HERE"
PY=/usr/bin/python3
TRAIN_MINUTES="${TRAIN_MINUTES:-45}"
STAGE="${STAGE:-all}"
mkdir -p work/logs
want() { [ "$STAGE" = all ] || [ "$STAGE" = "$1" ]; }
if want corpus; then
  for p in asterisk-core-sounds-en-wav asterisk-core-sounds-es-wav asterisk-core-sounds-fr-wav \
    asterisk-core-sounds-it-wav asterisk-core-sounds-ru-wav festvox-ru fillets-ng-data fillets-ng-data-nl \
    fillets-ng-data-cs tuxpaint-stamps-default asterisk-prompt-es-co asterisk-prompt-fr-armelle asterisk-prompt-it-menardi-wav \
    espeak-ng sox ffmpeg python3-torch python3-onnx; do
    dpkg -s "$p" >/dev/null 2>&1 || { echo "missing Debian package $p: apt-get install -y $p" >&2; exit 1; }
  done
  nice -n 10 $PY corpus.py --n-synth "${N_SYNTH:-260}" --pseudo "${PSEUDO:-0}" --jobs 8 2>&1 | tee -a work/logs/corpus.log
fi
if want train; then nice -n 10 $PY train.py --minutes "$TRAIN_MINUTES" 2>&1 | tee -a work/logs/train.log; fi
if want export; then $PY export.py --ckpt work/ckpt/best.pt --train-minutes "$TRAIN_MINUTES" 2>&1 | tee -a work/logs/export.log; fi
if want eval; then $PY eval.py --ckpt work/ckpt/best.pt 2>&1 | tee work/logs/eval.md; fi
