"""Write small test fixtures for the TypeScript suite into test/fixtures/asr/."""
import json, os, shutil, sys
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from corpus import load, split_prompts, write_wav, SR
from features import fbank_np, read_wav_float, mel_matrix, LOG_FLOOR
import features as F

ROOT = os.path.normpath(os.path.join(HERE, "..", "..", ".."))
OUT = os.path.join(ROOT, "test", "fixtures", "asr")
REAL = ["all-circuits-busy-now", "conf-getpin", "feature-not-avail-line"]  # held-out prompts (in heldout_real.txt)


def main():
    import argparse
    ap = argparse.ArgumentParser()
    ap.add_argument("--tag", default="", help="read the model's transcripts from work/eval/<tag>/ (eval.py --tag)")
    a = ap.parse_args()
    os.makedirs(OUT, exist_ok=True)
    _, held = split_prompts()
    hmap = {p[0]: p for p in held}
    edir = os.path.join(HERE, "work", "eval", a.tag)
    def hyp_for(set_name, ident):
        out = {}
        for kind in ("fp32", "int8"):
            p = os.path.join(edir, f"hyps_{set_name}_{kind}.json")
            if os.path.exists(p):
                for h in json.load(open(p))["hyps"]:
                    if h["id"] == ident:
                        out[kind] = h["hyp"]
        return out
    items = []
    names = [n for n in REAL if n in hmap]
    # fall back to the shortest held-out prompts if a name is missing
    if len(names) < 3:
        for p in sorted(held, key=lambda p: os.path.getsize(p[2])):
            if p[0] not in names and len(p[1].split()) >= 2:
                names.append(p[0])
            if len(names) == 3:
                break
    for n in names:
        _, text, path = hmap[n]
        dst = f"real_{n}.wav"
        shutil.copyfile(path, os.path.join(OUT, dst))
        items.append({"file": dst, "text": text, "source": f"asterisk-core-sounds-en-wav {n}.wav (real recording, held out)",
                      "sampleRate": SR, "modelHypotheses": hyp_for("real", n)})
    # a held-out whole voice (flite slt, never trained on)
    audio, texts, voices = load(os.path.join(HERE, "work", "eval", "heldout_voices.npz"))
    k = min(range(len(audio)), key=lambda i: abs(len(audio[i]) - 3.5 * SR) + (0 if str(voices[i]).startswith("flite:slt") else 10 * SR))
    write_wav(os.path.join(OUT, "synth_heldout.wav"), audio[k])
    items.append({"file": "synth_heldout.wav", "text": str(texts[k]), "source": f"held-out synthetic voice {voices[k]} (never used in training)",
                  "sampleRate": SR, "modelHypotheses": hyp_for("voices", f"{k:04d}|{voices[k]}")})
    json.dump({"note": "8 kHz 16-bit mono WAV; text normalised (lowercase a-z, apostrophe, space); modelHypotheses = greedy output of models/asr-en-telephony at fixture time (informational, changes when the model is retrained)",
               "items": items}, open(os.path.join(OUT, "transcripts.json"), "w"), indent=1)
    # feature reference
    ref = items[0]["file"]
    x = read_wav_float(os.path.join(OUT, ref))
    feats = fbank_np(x)
    feats.astype("<f4").tofile(os.path.join(OUT, "features_ref.f32"))
    mel = mel_matrix()
    mel.astype("<f4").tofile(os.path.join(OUT, "mel_filterbank.f32"))
    json.dump({"wav": ref, "file": "features_ref.f32", "dtype": "float32-le", "shape": list(feats.shape),
               "layout": "row-major [frames, 80] (frame-major; transpose to [80, T] for the model input)",
               "numSamples": int(len(x)), "tolerance": 1e-4,
               "normalised": False, "note": "pre-normalisation log-mel exactly as models/recipes/asr/features.py fbank_np (float64 arithmetic, stored as float32)",
               "firstFrame": [round(float(v), 6) for v in feats[0]],
               "melFilterbank": {"file": "mel_filterbank.f32", "dtype": "float32-le", "shape": list(mel.shape),
                                 "layout": "row-major [129 FFT bins, 80 mel bins]"},
               "params": {"sampleRate": SR, "windowSamples": F.FRAME_LEN, "hopSamples": F.FRAME_SHIFT, "nFft": F.NFFT,
                          "preemphasis": F.PREEMPH, "window": "hann (periodic)", "dither": 0, "removeDcOffset": False,
                          "snipEdges": False, "melScale": "slaney", "melNorm": "slaney", "melLowHz": 0, "melHighHz": 4000,
                          "logFloor": LOG_FLOOR, "log": "natural"}},
              open(os.path.join(OUT, "features_ref.json"), "w"), indent=1)
    total = sum(os.path.getsize(os.path.join(OUT, f)) for f in os.listdir(OUT))
    print(f"fixtures in {OUT}: {sorted(os.listdir(OUT))}, {total} bytes")


if __name__ == "__main__":
    main()
