"""Scores n-grams with CMU Sphinx's own library (Debian python3-sphinxbase): an independent reference
for the TypeScript reader. Reads JSON [[w1, ..., wn], ...] (oldest word first) on stdin, writes
ln P(wn | w1 .. wn-1) for each as JSON."""
import json
import math
import sys

from sphinxbase import sphinxbase

model = sphinxbase.NGramModel(sys.argv[1])
ngrams = json.load(sys.stdin)
# prob() takes the words newest first and answers an integer log in base 1.0001.
json.dump([model.prob(list(reversed(words))) * math.log(1.0001) for words in ngrams], sys.stdout)
