#!/usr/bin/env bash
# One command: corpus -> classifier -> export -> evaluate on the held-out speakers.
#   models/recipes/language/run.sh
# Environment knobs (defaults = the published model):
#   HEAD=linear        the published classifier: one linear layer on the English ASR encoder's block-4 statistics,
#                      fitted on the real speakers and their pseudo-speakers (probe_taps.py --save);
#                      HEAD=conv trains the log-mel network of version 1 instead (train.py, on every voice)
#   TRAIN_MINUTES=45   HEAD=conv's wall-clock budget (rerun resumes from work/ckpt/last.pt)
#   N_SYNTH=260        espeak-ng utterances per tag
#   PSEUDO=2           pseudo-speakers per real speaker (corpus.py --pseudo)
#   STAGE=all          or one of: corpus fit export eval
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
cd "$HERE"
PY=/usr/bin/python3
TRAIN_MINUTES="${TRAIN_MINUTES:-45}"
HEAD="${HEAD:-linear}"
CKPT=work/ckpt/best.pt
[ "$HEAD" = linear ] && CKPT=work/ckpt-probe/b4.pt
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
  nice -n 10 $PY corpus.py --n-synth "${N_SYNTH:-260}" --pseudo "${PSEUDO:-2}" --jobs 8 2>&1 | tee -a work/logs/corpus.log
fi
if want fit; then
  if [ "$HEAD" = linear ]; then
    # real speakers and pseudo-speakers only: the espeak-ng voices cost the held-out Italian speaker most of its calls
    awk -F'\t' 'NR == 1 || $5 != "synth"' work/corpus/index.tsv > work/realpseudo_index.tsv
    mkdir -p work/ckpt-probe
    nice -n 10 $PY probe_taps.py --index work/realpseudo_index.tsv --features b4 --und-below 0.5 \
      --save "$CKPT" 2>&1 | tee -a work/logs/fit.log
  else
    nice -n 10 $PY train.py --minutes "$TRAIN_MINUTES" 2>&1 | tee -a work/logs/train.log
  fi
fi
if want export; then
  if [ "$HEAD" = linear ]; then $PY export.py --ckpt "$CKPT" 2>&1 | tee -a work/logs/export.log
  else $PY export.py --ckpt "$CKPT" --train-minutes "$TRAIN_MINUTES" 2>&1 | tee -a work/logs/export.log; fi
fi
if want eval; then $PY eval.py --ckpt "$CKPT" 2>&1 | tee work/logs/eval.md; fi
