"""Per-utterance log-posteriors as a TSV file: what eval.py, probe_taps.py and prlm.py write (`--scores`) and
fuse.py reads."""
import csv

import numpy as np

from labels import CLASSES

FLOOR = -80.0  # a tag the system rules out entirely; kept finite so that weighted sums stay defined


def write_scores(path, rows):
    """(utterance path, speaker, log-posteriors over CLASSES) rows -> path."""
    with open(path, "w", encoding="utf-8") as f:
        f.write("path\tspeaker\t" + "\t".join(CLASSES) + "\n")
        for utt, spk, lp in rows:
            f.write(f"{utt}\t{spk}\t" + "\t".join(f"{max(float(v), FLOOR):.4f}" for v in lp) + "\n")


def read_scores(path):
    """path -> {utterance path: (speaker, log-posteriors [C])}"""
    out = {}
    for row in csv.DictReader(open(path, encoding="utf-8"), delimiter="\t"):
        out[row["path"]] = (row["speaker"], np.array([float(row[c]) for c in CLASSES]))
    return out
