"""LM text for the telephony model: hotline sentences from the ASR recipe's generator and the training
Asterisk prompt transcripts, with every held-out transcript kept out.

Writes (under --out):
  train.txt       the domain LM's text, one normalised sentence per line
  tune-train.txt  the same without the tuning prompts (for choosing the interpolation weight)
  dev-generated.txt, dev-prompts.txt
                  tuning text: generated sentences of another seed; every fifth training prompt from the
                  third (left out of tune-train.txt)
  heldout.txt     the held-out transcripts the check used (never LM text)
  report.json     sizes and what was excluded

No LM text may contain a held-out transcript: the held-out Asterisk prompts (../asr/heldout_real.txt)
and the sentences of the held-out synthetic voices (the ASR recipe's generator, seed 777). A line is
dropped when it equals one or contains one of two or more words as a run of whole words (one-word
prompts such as "hello" stay in the vocabulary); check_no_heldout() asserts the result.
"""
import argparse
import gzip
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ASR = os.path.join(HERE, "..", "asr")
sys.path.insert(0, ASR)
from textgen import generate  # noqa: E402  (read-only reuse of the ASR recipe's generator)
from textnorm import normalize  # noqa: E402

TRANSCRIPTS = "/usr/share/doc/asterisk-core-sounds-en/core-sounds-en.txt.gz"
HELDOUT_LIST = os.path.join(ASR, "heldout_real.txt")
# The ASR recipe's held-out voices speak generate(n, seed=777) sentences (n = 3 x 250 by default);
# a larger prefix of the same sequence is excluded here so a changed default stays covered.
HELDOUT_VOICES_SEED = 777
HELDOUT_VOICES_PREFIX = 5000


def read_transcripts():
    """name -> normalised transcript of every spoken Asterisk prompt (tones in brackets skipped)."""
    out = {}
    with gzip.open(TRANSCRIPTS, "rt", encoding="utf-8", errors="replace") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line or line.startswith(";") or ": " not in line:
                continue
            name, text = line.split(": ", 1)
            if text.strip().startswith("["):
                continue
            norm = normalize(text)
            if norm:
                out[name.strip()] = norm
    return out


def read_heldout_names():
    with open(HELDOUT_LIST) as f:
        return [l.strip() for l in f if l.strip() and not l.startswith("#")]


class HeldOut:
    """Held-out transcripts, indexed by their first two words so that a line is checked in one pass."""

    def __init__(self, transcripts):
        self.whole = set(transcripts)
        self.by_start = {}
        for t in transcripts:
            words = t.split()
            if len(words) >= 2:
                self.by_start.setdefault((words[0], words[1]), []).append(words)

    def leak(self, line):
        """The held-out transcript a line equals or contains (two or more words), else None."""
        if line in self.whole:
            return line
        words = line.split()
        for i in range(len(words) - 1):
            for h in self.by_start.get((words[i], words[i + 1]), ()):
                if words[i:i + len(h)] == h:
                    return " ".join(h)
        return None


def leaks(line, heldout):
    return heldout.leak(line)


def check_no_heldout(lines, heldout, what):
    for i, line in enumerate(lines):
        h = leaks(line, heldout)
        if h is not None:
            raise SystemExit(f"{what} line {i + 1} contains the held-out transcript {h!r}; it must not")


def build(n_generated, n_dev, seed):
    transcripts = read_transcripts()
    held_names = read_heldout_names()
    missing = [n for n in held_names if n not in transcripts]
    if missing:
        raise SystemExit(f"{HELDOUT_LIST}: {len(missing)} names have no transcript, the first {missing[0]!r}")
    held_prompts = sorted({transcripts[n] for n in held_names})
    held_voices = sorted(set(generate(HELDOUT_VOICES_PREFIX, seed=HELDOUT_VOICES_SEED)))
    heldout_lines = sorted(set(held_prompts) | set(held_voices))
    heldout = HeldOut(heldout_lines)
    held_name_set = set(held_names)
    train_prompts = [t for n, t in sorted(transcripts.items()) if n not in held_name_set]
    dropped = {"prompts": 0, "generated": 0, "dev": 0}

    def keep(lines, key):
        out = []
        for line in lines:
            if leaks(line, heldout) is None:
                out.append(line)
            else:
                dropped[key] += 1
        return out

    # Tuning prompts: every fifth training prompt from the third, in name order (the ASR recipe's
    # eval_decoding.py --set dev), left out of the tuning domain model.
    tune_set = set(train_prompts[2::5])
    prompts = keep(train_prompts, "prompts")
    tune_prompts = [p for p in prompts if p in tune_set]
    generated = keep(generate(n_generated, seed=seed), "generated")
    generated_set = set(generated)
    dev_generated = keep([t for t in generate(n_dev * 2, seed=seed + 4241) if t not in generated_set][:n_dev], "dev")
    dev = dev_generated + tune_prompts
    train = generated + prompts
    tune_train = generated + [p for p in prompts if p not in tune_set]
    for lines, what in ((train, "train"), (tune_train, "tune-train"), (dev, "dev")):
        check_no_heldout(lines, heldout, what)
    report = {
        "generatedSentences": len(generated),
        "trainingPrompts": len(prompts),
        "heldOutPrompts": len(held_prompts),
        "heldOutVoiceSentences": len(held_voices),
        "droppedForHeldOut": dropped,
        "devSentences": {"generated": len(dev_generated), "trainingPrompts": len(tune_prompts)},
    }
    return train, tune_train, dev_generated, tune_prompts, heldout_lines, report


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.join(HERE, "work"))
    ap.add_argument("--generated", type=int, default=120000, help="generated hotline sentences")
    ap.add_argument("--dev", type=int, default=3000, help="generated tuning sentences")
    ap.add_argument("--seed", type=int, default=1, help="generator seed (1 is the ASR recipe's text pool)")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    train, tune_train, dev_generated, dev_prompts, heldout, report = build(a.generated, a.dev, a.seed)
    outputs = (("train", train), ("tune-train", tune_train), ("dev-generated", dev_generated),
               ("dev-prompts", dev_prompts), ("heldout", heldout))
    for name, lines in outputs:
        with open(os.path.join(a.out, f"{name}.txt"), "w") as f:
            f.write("\n".join(lines) + "\n")
    with open(os.path.join(a.out, "report.json"), "w") as f:
        json.dump(report, f, indent=2)
    print(json.dumps(report))


if __name__ == "__main__":
    main()
