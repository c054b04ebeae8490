#!/bin/sh
# Rebuilds the telephony model's word LM and lexicon (models/asr-en-telephony/lm.bin, lexicon.txt and
# the manifest's decoding section). Needs Debian's pocketsphinx-en-us; about a minute on 2 cores.
set -eu
cd "$(dirname "$0")/../../.."
/usr/bin/python3 models/recipes/lm/corpus.py "$@"
npx tsx models/recipes/lm/build.ts
