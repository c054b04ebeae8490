"""Fuse two language-ID systems' per-utterance log-posteriors and score the result on held-out speakers.

Each system writes its log-posteriors over the tags (`eval.py --scores`, `prlm.py eval --scores`). The fused score
of an utterance is the weighted sum (1 - w) * first + w * second, a log-linear mixture; a call averages its
utterances' fused scores, as the ASR service averages a leg's, and is decided as eval.py decides (the language
whose tags together are most probable, `und` below --und-below). Calls of K pool disjoint groups of one speaker's
utterances in a fixed shuffled order, the same groups for every weight. Only utterances both systems scored count.

    /usr/bin/python3 probe_taps.py --index work/realpseudo_index.tsv --features b4 --scores work/fuse/probe-b4.tsv
    /usr/bin/python3 prlm.py eval --decodes work/prlm/decodes-phones.tsv --order 3 --scale 0.3 \
        --scores work/fuse/ngram-index.tsv
    /usr/bin/python3 fuse.py --scores work/fuse/probe-b4.tsv work/fuse/ngram-index.tsv --weights 0 0.5 0.7 0.8 0.9 1
"""
import argparse
import collections
import csv
import random

import numpy as np

from eval import decide
from labels import LANGUAGE_OF
from score_files import read_scores


def read_true_tags(index):
    """-> {utterance path: its tag} for the utterances of one tag (every real and held-out speaker's)."""
    out = {}
    for row in csv.DictReader(open(index, encoding="utf-8"), delimiter="\t"):
        tags = row["tags"].split(",")
        if len(tags) == 1:
            out[row["path"]] = tags[0]
    return out


def calls_of(paths_by_speaker, k, seed=19):
    """{speaker: [paths]} -> {speaker: [groups of k paths]}: disjoint groups of a fixed shuffle."""
    out = {}
    for spk, paths in sorted(paths_by_speaker.items()):
        order = random.Random(f"{seed}-{spk}").sample(sorted(paths), len(paths))
        out[spk] = [order[i:i + k] for i in range(0, len(order) - k + 1, k)]
    return out


def accuracy(groups, fused, true_tag, und_below):
    """Share of groups whose pooled decision names the true language, and what they were taken for."""
    taken = collections.Counter()
    for g in groups:
        lang, _, _ = decide(np.mean([fused[p] for p in g], axis=0), und_below)
        taken[lang] += 1
    true = LANGUAGE_OF[true_tag]
    return taken[true] / max(1, len(groups)), taken


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--scores", nargs=2, required=True, help="two score files (the first weighted 1 - w)")
    ap.add_argument("--index", default="work/corpus/index.tsv")
    ap.add_argument("--weights", type=float, nargs="+", default=[0.0, 0.5, 1.0])
    ap.add_argument("--und-below", type=float, nargs="+", default=[0.0, 0.5])
    ap.add_argument("--call", type=int, default=5)
    args = ap.parse_args()
    first = read_scores(args.scores[0])
    second = read_scores(args.scores[1])
    true_tags = read_true_tags(args.index)
    common = sorted(p for p in first if p in second and p in true_tags)
    by_speaker = collections.defaultdict(list)
    for p in common:
        by_speaker[first[p][0]].append(p)
    singles = {spk: [[p] for p in paths] for spk, paths in by_speaker.items()}
    calls = calls_of(by_speaker, args.call)
    print(f"{len(common)} utterances scored by both, {len(by_speaker)} speakers")
    for w in args.weights:
        fused = {p: (1 - w) * first[p][1] + w * second[p][1] for p in common}
        for und_below in args.und_below:
            cells = []
            for spk in sorted(by_speaker):
                tag = true_tags[by_speaker[spk][0]]
                utt, _ = accuracy(singles[spk], fused, tag, und_below)
                call, taken = accuracy(calls[spk], fused, tag, und_below)
                top = ", ".join(f"{lang} {n}" for lang, n in taken.most_common(3))
                cells.append(f"{spk} {100 * utt:.1f}/{100 * call:.1f} ({top})")
            print(f"w {w:.2f} und<{und_below}: " + "; ".join(cells), flush=True)


if __name__ == "__main__":
    main()
