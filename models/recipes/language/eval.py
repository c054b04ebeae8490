"""Accuracy and confusion on the held-out real speakers (never trained on), per utterance and per call.

A "call" pools K utterances of one held-out speaker (its utterances shuffled with a fixed seed and cut
into disjoint groups of K) by averaging
their log-posteriors, as the ASR service does over a leg. A decision whose language probability is
below the manifest's undBelow is `und` and counts as wrong. Prints Markdown tables.

    /usr/bin/python3 eval.py --ckpt work/ckpt/best.pt [--split heldout|dev]
"""
import argparse
import json
import os
import random
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.append(os.path.join(HERE, "..", "asr"))  # after this folder: both have a model.py
from features import TorchFbank  # noqa: E402

from labels import CLASSES, LANGUAGE_OF, LANGUAGES  # noqa: E402
from model import build  # noqa: E402
from score_files import write_scores  # noqa: E402
from train import load_split  # noqa: E402


def decide(logp, und_below):
    """logp: mean log-posteriors [C] -> (language, dialect tag, language probability)."""
    p = np.exp(logp - logp.max())
    p /= p.sum()
    lang_p = {l: sum(p[i] for i, c in enumerate(CLASSES) if LANGUAGE_OF[c] == l) for l in LANGUAGES}
    lang = max(lang_p, key=lang_p.get)
    if lang_p[lang] < und_below:
        return "und", "und", lang_p[lang]
    best = max((i for i, c in enumerate(CLASSES) if LANGUAGE_OF[c] == lang), key=lambda i: p[i])
    return lang, CLASSES[best], lang_p[lang]


def table(title, rows_true, rows_pred, labels_true, labels_pred):
    out = [f"\n**{title}**\n", "| true \\ predicted | " + " | ".join(labels_pred) + " | n | accuracy |",
           "|---" * (len(labels_pred) + 3) + "|"]
    for t in labels_true:
        idx = [i for i, x in enumerate(rows_true) if x == t]
        if not idx:
            continue
        counts = [sum(1 for i in idx if rows_pred[i] == p) for p in labels_pred]
        acc = sum(1 for i in idx if rows_pred[i] == t) / len(idx)
        out.append(f"| {t} | " + " | ".join(str(c) for c in counts) + f" | {len(idx)} | {100 * acc:.1f}% |")
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ckpt", default=os.path.join(HERE, "work", "ckpt", "best.pt"))
    ap.add_argument("--index", default=os.path.join(HERE, "work", "corpus", "index.tsv"))
    ap.add_argument("--split", default="heldout")
    ap.add_argument("--und-below", type=float, default=0.5)
    ap.add_argument("--per-call", type=int, nargs="+", default=[3, 5])
    ap.add_argument("--json", default=None)
    ap.add_argument("--scores", default=None, help="also write each utterance's log-posteriors (fuse.py reads them)")
    args = ap.parse_args()
    torch.set_num_threads(1)
    ck = torch.load(args.ckpt)
    model = build(len(CLASSES), ck.get("front", ""), ck.get("head", "conv"))
    model.load_state_dict(ck["model"])
    model.eval()
    fbank = TorchFbank()
    items = load_split(args.index, args.split)
    by_spk = {}
    with torch.no_grad():
        for x, mask, spk, kind, path in items:
            w = torch.from_numpy(x.astype(np.float32) / 32768.0)[None]
            feats, _ = fbank(w, torch.tensor([w.shape[1]]))
            logp = model(feats)[0].numpy()
            tag = CLASSES[int(np.argmax(mask))] if mask.sum() == 1 else None
            by_spk.setdefault(spk, []).append((logp, tag, path))
    report = {"split": args.split, "speakers": {}}
    lines = [f"Split `{args.split}`, checkpoint `{os.path.relpath(args.ckpt, HERE)}`, und below {args.und_below}."]
    lang_cols = LANGUAGES + ["und"]
    for level in ["utterance"] + [f"call of {k}" for k in args.per_call]:
        true_l, pred_l, true_d, pred_d = [], [], [], []
        rnd = random.Random(19)
        for spk, utts in sorted(by_spk.items()):
            tag = utts[0][1]
            if tag is None:
                continue
            if level == "utterance":
                groups = [[u] for u in utts]
            else:
                k = int(level.split()[-1])
                order = rnd.sample(utts, len(utts))
                groups = [order[i:i + k] for i in range(0, len(order) - k + 1, k)]
            for g in groups:
                lang, dial, _ = decide(np.mean([u[0] for u in g], axis=0), args.und_below)
                true_l.append(LANGUAGE_OF[tag])
                pred_l.append(lang)
                true_d.append(tag)
                pred_d.append(dial)
                report["speakers"].setdefault(spk, {}).setdefault(level, {"n": 0, "language": 0, "tag": 0})
                r = report["speakers"][spk][level]
                r["n"] += 1
                r["language"] += int(lang == LANGUAGE_OF[tag])
                r["tag"] += int(dial == tag)
        used_l = [l for l in lang_cols if l in pred_l or l in true_l]
        lines.append(table(f"{level}: language", true_l, pred_l, LANGUAGES, used_l))
        used_d = [c for c in CLASSES + ["und"] if c in pred_d or c in true_d]
        lines.append(table(f"{level}: tag (variant)", true_d, pred_d, CLASSES, used_d))
    print("\n".join(lines))
    for spk, levels in sorted(report["speakers"].items()):
        print(spk, {lv: f"language {r['language']}/{r['n']}, tag {r['tag']}/{r['n']}" for lv, r in levels.items()})
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=2)
    if args.scores:
        write_scores(args.scores, [(path, spk, lp) for spk, utts in by_spk.items() for lp, _, path in utts])


if __name__ == "__main__":
    main()
