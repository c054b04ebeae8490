"""Does the GSM 06.10 codec decide the acoustic probe's answer? A measurement, not part of the model.

The held-out Colombian Spanish and French speakers are shipped as GSM 06.10 files, which no training speaker is
(only the pseudo-speakers pass through random codecs), and every acoustic feature takes the Spanish speaker for
French. This fits probe_taps.py's linear classifier on the cached features of a probe run (`--cache`), then decides
the language of the named speakers' dev and held-out utterances as they are and after a GSM 06.10 round trip
through sox. If the codec were what the classifier hears, coding a training speaker's Spanish should turn it French.

    /usr/bin/python3 codec_check.py --cache work/fuse/probe-en.npz --index work/realpseudo_index.tsv \\
        ast-es-allison tuxpaint-es ast-fr-june ast-it-carlo heldout-it-menardi
"""
import argparse
import collections
import csv
import os
import subprocess
import tempfile

import numpy as np
import torch

from asr_front import ASR_ONNX, _asr_model_module
from probe_taps import fit_linear, language, pooled_features
from train import read_wav, tag_mask, trim

from features import TorchFbank  # noqa: E402 (../asr, on the path once asr_front is imported)
from warmstart import load_onnx  # noqa: E402

MIN_SAMPLES = 4000  # half a second, as the probe's splits


def gsm_round_trip(src, workdir):
    """src WAV -> GSM 06.10 -> 16-bit WAV at 8 kHz; -> the new file's path."""
    coded, decoded = os.path.join(workdir, "x.gsm"), os.path.join(workdir, "x.wav")
    subprocess.run(["sox", "-q", src, "-r", "8000", "-c", "1", coded], check=True)
    subprocess.run(["sox", "-q", coded, "-b", "16", "-e", "signed-integer", decoded], check=True)
    return decoded


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("speakers", nargs="+")
    ap.add_argument("--cache", required=True, help="a probe_taps.py --cache file")
    ap.add_argument("--index", required=True, help="the index that probe run used")
    ap.add_argument("--feature", default="b4")
    ap.add_argument("--per-speaker", type=int, default=40)
    args = ap.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    rows = {r["path"]: r for r in csv.DictReader(open(args.index, encoding="utf-8"), delimiter="\t")}
    cache = np.load(args.cache, allow_pickle=True)
    paths = list(cache["train-paths"])
    classify, _ = fit_linear(np.stack([f[args.feature] for f in cache["train"]]),
                             np.stack([tag_mask(rows[p]["tags"]) for p in paths]), [rows[p]["speaker"] for p in paths])
    am = _asr_model_module()
    asr = load_onnx(am.CtcModel(**am.STREAMING_CONFIG), ASR_ONNX).eval()
    fbank = TorchFbank()
    with tempfile.TemporaryDirectory() as tmp:
        for spk in args.speakers:
            chosen = sorted(p for p, r in rows.items() if r["speaker"] == spk and r["split"] in ("dev", "heldout"))
            for name, route in (("as shipped", lambda p: p), ("GSM 06.10", lambda p: gsm_round_trip(p, tmp))):
                taken = collections.Counter()
                for p in chosen[:args.per_speaker]:
                    x = trim(read_wav(route(p)))
                    if x.size < MIN_SAMPLES:
                        continue
                    with torch.no_grad():
                        feat = pooled_features(asr, fbank, x)[args.feature]
                    taken[language(classify(feat[None])[0], 0.0)] += 1
                print(f"{spk:22s} {name:10s} {dict(taken.most_common())}", flush=True)


if __name__ == "__main__":
    main()
