"""Phone-recogniser-style language ID (PRLM) on the English ASR model's letters.

The idea: the English telephony ASR model has heard many voices (synthetic, pseudo-speakers, codecs), so the letters
it writes for speech in another language might carry that language's sound patterns more than its speaker's
traits, which the acoustic classifier (train.py) cannot separate with one real speaker per language. A letter
n-gram model per tag, trained on the ASR's greedy output for the training speakers and espeak-ng voices, scores a
new utterance's letters; the tag whose model explains them best wins.

Measured (2026-12-06, asr-en-telephony 2.1, 2-core CPU), trained on the five Asterisk speakers alone, which read the
same prompt texts as the held-out speakers (`--speakers ast-en-allison,ast-es-allison,ast-fr-june,ast-it-carlo,
ast-ru-ivrvoice --order 3 --scale 0.3 --und-below 0`): dev calls of 5 (the training speakers' own unseen prompts)
87.5-100% right; held-out speakers, calls of 5: es-co 15.8%, fr-armelle 60.0%, it-menardi 20.7% among five
languages, where chance is 20%. With every real training speaker, the tag with the most letters of training (ru,
with festvox-ru) takes most held-out calls. The English model's letters for speech in another language still
depend on the speaker far more than on the language, so this does not replace the acoustic classifier; it is kept
as the measurement.

    decode   run the ASR model (../../asr-en-telephony/model.onnx) over work/corpus/index.tsv once:
             work/prlm/decodes.tsv (path, letters)
    eval     letter n-grams per tag from the train split's letters, then utterance- and call-level accuracy on
             dev and the held-out speakers; `--decodes work/prlm/decodes-phones.tsv` scores phone_decode.py's phones
"""
import argparse
import collections
import math
import os
import random
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ASR = os.path.join(HERE, "..", "asr")
sys.path.insert(0, ASR)
from features import TorchFbank  # noqa: E402
from model import CtcModel, STREAMING_CONFIG, decode_greedy  # noqa: E402
from warmstart import load_onnx  # noqa: E402

from corpus import read_wav  # noqa: E402  (the ASR recipe's: any WAV as int16 at 8 kHz)
from score_files import write_scores  # noqa: E402
from labels import CLASSES, LANGUAGE_OF  # noqa: E402

WORK = os.path.join(HERE, "work", "prlm")
BOS, EOS = "<", ">"
# shorter recordings (a fraction of a second) carry no letters worth scoring
MIN_SAMPLES = 2400


def read_index(path):
    rows = []
    for line in list(open(path, encoding="utf-8"))[1:]:
        p, tags, spk, split, kind = line.rstrip("\n").split("\t")[:5]
        rows.append((p, tags.split(","), spk, split, kind))
    return rows


def decode_all(index, onnx_path, out):
    done = {}
    if os.path.exists(out):
        for line in open(out, encoding="utf-8"):
            p, s = line.rstrip("\n").split("\t", 1)
            done[p] = s
    model = load_onnx(CtcModel(**STREAMING_CONFIG), onnx_path).eval()
    fbank = TorchFbank()
    todo = [r for r in index if r[0] not in done]
    with open(out, "a", encoding="utf-8") as f, torch.no_grad():
        for k, (p, *_r) in enumerate(todo):
            x = read_wav(p)
            if len(x) < MIN_SAMPLES:
                f.write(f"{p}\t\n")
                continue
            w = torch.from_numpy(x.astype(np.float32) / 32768.0)[None]
            feats, flen = fbank(w, torch.tensor([w.shape[1]]))
            if feats.shape[1] != 80:
                feats = feats.transpose(1, 2)
            lp, ol = model(feats, flen)
            s = decode_greedy(lp[0, :int(ol[0])].argmax(-1).tolist())
            f.write(f"{p}\t{s}\n")
            if k % 500 == 0:
                print(f"decoded {k}/{len(todo)}", flush=True)
                f.flush()


class LetterLM:
    """Interpolated Witten-Bell letter n-gram model."""

    def __init__(self, order):
        self.order = order
        self.counts = [collections.defaultdict(collections.Counter) for _ in range(order)]
        self.vocab = set()

    def add(self, s, weight=1.0):
        seq = [BOS] * (self.order - 1) + list(s) + [EOS]
        for i in range(self.order - 1, len(seq)):
            self.vocab.add(seq[i])
            for n in range(self.order):
                ctx = "".join(seq[i - n:i])
                self.counts[n][ctx][seq[i]] += weight

    def prob(self, ctx, ch):
        p = 1.0 / (len(self.vocab) + 1)
        for n in range(self.order):
            c = ctx[len(ctx) - n:] if n else ""
            table = self.counts[n].get(c)
            if not table:
                continue
            total = sum(table.values())
            types = len(table)
            lam = total / (total + types)
            p = lam * table.get(ch, 0.0) / total + (1 - lam) * p
        return p

    def logprob(self, s):
        if not self.vocab:
            return -math.inf
        seq = [BOS] * (self.order - 1) + list(s) + [EOS]
        lp = 0.0
        for i in range(self.order - 1, len(seq)):
            lp += math.log(self.prob("".join(seq[i - self.order + 1:i]), seq[i]))
        return lp


def decide(logp_sum, scale, und_below):
    z = scale * (logp_sum - logp_sum.max())
    p = np.exp(np.nan_to_num(z, nan=-np.inf))
    p /= p.sum()
    by_lang = collections.defaultdict(float)
    for c, q in zip(CLASSES, p):
        by_lang[LANGUAGE_OF[c]] += q
    lang, conf = max(by_lang.items(), key=lambda kv: kv[1])
    if conf < und_below:
        return "und", "und", conf
    variant = max((q, c) for c, q in zip(CLASSES, p) if LANGUAGE_OF[c] == lang)[1]
    return lang, variant, conf


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("stage", choices=["decode", "eval"])
    ap.add_argument("--index", default=os.path.join(HERE, "work", "corpus", "index.tsv"))
    ap.add_argument("--onnx", default=os.path.join(HERE, "..", "..", "asr-en-telephony", "model.onnx"))
    ap.add_argument("--order", type=int, default=4)
    ap.add_argument("--scale", type=float, default=0.1)
    ap.add_argument("--und-below", type=float, default=0.5)
    ap.add_argument("--calls", default="3,5")
    ap.add_argument("--decodes", default=os.path.join(WORK, "decodes.tsv"),
                    help="what each utterance was decoded as (decode's output, or phone_decode.py's phones)")
    ap.add_argument("--speakers", default="", help="train on these speakers only (comma-separated `speaker` ids)")
    ap.add_argument("--scores", default="", help="also write each scored utterance's log-posteriors (for fuse.py)")
    a = ap.parse_args()
    torch.set_num_threads(1)
    os.makedirs(WORK, exist_ok=True)
    index = read_index(a.index)
    if a.speakers:
        keep = set(a.speakers.split(","))
        index = [r for r in index if r[2] in keep or r[3] == "heldout"]
    dec_path = a.decodes
    if a.stage == "decode":
        decode_all(index, a.onnx, dec_path)
        return
    dec = dict(l.rstrip("\n").split("\t", 1) for l in open(dec_path, encoding="utf-8"))
    lms = {c: LetterLM(a.order) for c in CLASSES}
    for p, tags, spk, split, kind in index:
        if split == "train" and p in dec:
            for t in tags:
                lms[t].add(dec[p], 1.0 / len(tags))
    scored = []
    for split in ("dev", "heldout"):
        by_spk = collections.defaultdict(list)
        for p, tags, spk, sp, kind in index:
            if sp == split and p in dec and (split == "heldout" or kind == "real"):
                lp = np.array([lms[c].logprob(dec[p]) for c in CLASSES])
                by_spk[(spk, tags[0])].append(lp)
                scored.append((p, spk, lp))
        for k in [1] + [int(x) for x in a.calls.split(",")]:
            print(f"## {split}, calls of {k}")
            for (spk, tag), lps in sorted(by_spk.items()):
                rnd = random.Random(7)
                lps = list(lps)
                rnd.shuffle(lps)
                groups = [lps[i:i + k] for i in range(0, len(lps) - k + 1, k)]
                res = collections.Counter()
                ok_lang = ok_tag = 0
                for g in groups:
                    lang, var, conf = decide(np.sum(g, axis=0), a.scale, a.und_below)
                    res[lang] += 1
                    ok_lang += lang == LANGUAGE_OF[tag]
                    ok_tag += var == tag
                print(f"{spk:24s} {tag:8s} n={len(groups):4d} language {100 * ok_lang / max(1, len(groups)):5.1f}% "
                      f"tag {100 * ok_tag / max(1, len(groups)):5.1f}% {dict(res.most_common(5))}")
    if a.scores:
        write_scores(a.scores, [(p, spk, log_posteriors(lp, a.scale)) for p, spk, lp in scored])


def log_posteriors(logp, scale):
    """An utterance's n-gram log-likelihoods per tag -> log-posteriors at `scale`, as decide() weighs them."""
    z = scale * (np.nan_to_num(logp, nan=-np.inf, neginf=-1e9) - np.max(logp))
    return z - np.log(np.exp(z).sum())


if __name__ == "__main__":
    main()
