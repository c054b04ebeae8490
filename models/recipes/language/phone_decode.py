"""Greedy phone strings of every corpus utterance from a train_phones.py checkpoint, for prlm.py's n-grams.

Each phone is written as one character, chr(PHONE_BASE + its index in the checkpoint's inventory), so prlm.py's
letter n-gram models work on phones unchanged:

    /usr/bin/python3 phone_decode.py --ckpt work/ckpt-phones/best.pt     # -> work/prlm/decodes-phones.tsv
    /usr/bin/python3 prlm.py eval --decodes work/prlm/decodes-phones.tsv

It then prints the phone error rate of the Asterisk speakers (report_per); `--per-only` prints only that, from the
decodes already written.
"""
import argparse
import collections
import csv
import os
import random

import numpy as np
import torch

from train import read_wav
from phones import text_to_phones
from train_phones import greedy, load_phone_model
from transcripts import asterisk_text, read_transcripts

from features import TorchFbank  # noqa: E402 (../asr, on the path once train_phones is imported)
from levenshtein import edit_distance  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
PHONE_BASE = 0x100
MIN_SAMPLES = 2400  # as prlm.py: a fraction of a second carries no phones worth scoring


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ckpt", default=os.path.join(HERE, "work", "ckpt-phones", "best.pt"))
    ap.add_argument("--index", default=os.path.join(HERE, "work", "corpus", "index.tsv"))
    ap.add_argument("--out", default=os.path.join(HERE, "work", "prlm", "decodes-phones.tsv"))
    ap.add_argument("--per-only", action="store_true")
    ap.add_argument("--train-per-speaker", type=int, default=100,
                    help="decode at most this many train-split utterances per speaker (a fixed random draw)")
    args = ap.parse_args()
    torch.set_num_threads(2)
    model, inventory = load_phone_model(args.ckpt)
    rows = list(csv.DictReader(open(args.index), delimiter="\t"))
    if args.per_only:
        report_per(rows, args.out, inventory, os.path.dirname(os.path.abspath(args.index)))
        return
    blank = len(inventory)
    fbank = TorchFbank()
    rnd = random.Random(5)
    train_rows = [r for r in rows if r["split"] == "train"]
    rnd.shuffle(train_rows)
    taken = collections.Counter()
    keep = set()
    for r in train_rows:
        if taken[r["speaker"]] < args.train_per_speaker:
            taken[r["speaker"]] += 1
            keep.add(r["path"])
    rows = [r for r in rows if r["split"] != "train" or r["path"] in keep]
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as f, torch.no_grad():
        for k, r in enumerate(rows):
            x = read_wav(r["path"])
            s = ""
            if len(x) >= MIN_SAMPLES:
                w = torch.from_numpy(x.astype(np.float32) / 32768.0)[None]
                feats, _ = fbank(w, torch.tensor([w.shape[1]]))
                f_ = feats.transpose(1, 2)
                lp, _ = model(f_, torch.tensor([f_.shape[2]]))
                s = "".join(chr(PHONE_BASE + i) for i in greedy(lp[0], blank))
            f.write(f"{r['path']}\t{s}\n")
            if k % 2000 == 0:
                print(f"decoded {k}/{len(rows)}", flush=True)
    report_per(rows, args.out, inventory, os.path.dirname(os.path.abspath(args.index)))


def report_per(rows, decodes, inventory, corpus_dir):
    """Phone error rate per speaker of the real Asterisk voices: the training speakers' dev prompts, and the held-out
    speakers against the text of the same prompt names in their language's Asterisk list (they read the same
    prompts, though not always word for word, so theirs is an upper bound)."""
    dec = dict(line.rstrip("\n").split("\t", 1) for line in open(decodes, encoding="utf-8"))
    texts = read_transcripts(corpus_dir)
    held_voice = {"heldout-es-co": ("es", "es-419"), "heldout-fr-armelle": ("fr", "fr-fr"),
                  "heldout-it-menardi": ("it", "it")}
    pid = {p: i for i, p in enumerate(inventory)}
    errs, total = collections.Counter(), collections.Counter()
    for r in rows:
        spk, path = r["speaker"], r["path"]
        if spk in held_voice:
            lang, voice = held_voice[spk]
            text = asterisk_text(lang).get(os.path.splitext(os.path.basename(path))[0])
        elif spk.startswith("ast-") and r["split"] == "dev" and r["kind"] == "real" and path in texts:
            text, voice = texts[path]
        else:
            continue
        if not text or path not in dec:
            continue
        ref = [pid[p] for p in text_to_phones(text, voice) if p in pid]
        hyp = [ord(c) - PHONE_BASE for c in dec[path]]
        errs[spk] += edit_distance(hyp, ref)
        total[spk] += len(ref)
    for spk in sorted(total):
        print(f"{spk:22s} phones {total[spk]:6d}  phone error rate {100 * errs[spk] / total[spk]:.1f}%")


if __name__ == "__main__":
    main()
