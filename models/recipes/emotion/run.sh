#!/bin/sh
# Builds both emotion models from what Debian ships:
#   models/emotion-prosody   the default: prosody arousal, calibrated on real recorded prompts
#   models/emotion-e2v-tiny  a small UNTRAINED model in the emotion2vec ONNX layout (tests the loader and service)
# Needs: asterisk-core-sounds-{en,es,fr,ru}-wav (the en_US_f_Allison, es_MX_f_Allison, fr_CA_f_June and
# ru_RU_f_IvrvoiceRU prompts), festvox-ru, python3-torch and python3-onnx (/usr/bin/python3).
set -eu
cd "$(dirname "$0")/../../.."
npx tsx models/recipes/emotion/calibrate.ts models/emotion-prosody
/usr/bin/python3 models/recipes/emotion/build_e2v_tiny.py models/emotion-e2v-tiny
