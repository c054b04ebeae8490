"""Exports a checkpoint to models/language-id/model.onnx and writes its manifest.json.

The graph takes raw log-mel frames [N, T, 80] (the ASR model's features, models/recipes/asr/features.py)
and returns log-posteriors [N, classes]; it normalises each utterance's features itself.
"""
import argparse
import json
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.append(os.path.join(HERE, "..", "asr"))  # after this folder: both have a model.py
from features import fbank_np  # noqa: E402

from labels import CLASSES, LANGUAGE_OF  # noqa: E402
from model import build  # noqa: E402
from asr_front import PHONE_CKPT  # noqa: E402

OUT = os.path.join(HERE, "..", "..", "language-id")

# Where each tag's training speech came from (corpus.py); the README says the same in words.
REAL_SPEAKERS = {
    "en-US": ["asterisk-core-sounds-en (Allison)", "tuxpaint-stamps-default (English narrator, variant unknown)"],
    "en-GB": ["tuxpaint-stamps-default (English narrator, variant unknown)"],
    "en-GB-scotland": ["tuxpaint-stamps-default (English narrator, variant unknown)"],
    "en-029": ["tuxpaint-stamps-default (English narrator, variant unknown)"],
    "es-ES": ["tuxpaint-stamps-default (Spanish narrator, variant unknown)"],
    "es-419": ["asterisk-core-sounds-es (Allison, Mexican Spanish)",
               "tuxpaint-stamps-default (Spanish narrator, variant unknown)"],
    "fr-FR": ["tuxpaint-stamps-default (French narrator, variant unknown)"],
    "fr-CA": ["asterisk-core-sounds-fr (June, Canadian French)",
              "tuxpaint-stamps-default (French narrator, variant unknown)"],
    "it": ["asterisk-core-sounds-it (Carlo)"],
    "ru": ["asterisk-core-sounds-ru (IvrvoiceRU)", "festvox-ru (msu_ru_nsh)",
           "tuxpaint-stamps-default (Russian narrator)"],
    "nl": ["fillets-ng-data-nl (several actors)", "tuxpaint-stamps-default (Dutch narrator)"],
    "cs": ["fillets-ng-data-cs (several actors)"],
}


def label_sources(tag, tag_kinds):
    """The manifest's realSpeakers and synthetic of a tag: from the checkpoint's record of what each tag was trained
    on where it has one (a tag it never saw has neither), else as the convolutional models were trained (every tag
    but fr-CA with espeak-ng voices)."""
    if tag_kinds is None:
        return {"realSpeakers": REAL_SPEAKERS.get(tag, []), "synthetic": tag != "fr-CA"}
    kinds = tag_kinds.get(tag, [])
    return {"realSpeakers": REAL_SPEAKERS.get(tag, []) if "real" in kinds else [], "synthetic": "synth" in kinds}


def front_provenance(tap):
    """Which frozen ASR encoder the graph starts with, or None for the log-mel network."""
    if not tap:
        return None
    asr = json.load(open(os.path.join(HERE, "..", "..", "asr-en-telephony", "manifest.json")))
    if tap.startswith("ph-"):
        ck = torch.load(PHONE_CKPT, map_location="cpu")
        return {"model": f"{asr['name']} {asr['version']}, fine-tuned to {len(ck['inventory'])} phones of 18 languages "
                         f"(train_phones.py: {ck['step']} steps, dev phone error rate {100 * ck['per']:.1f}%)",
                "tap": tap.removeprefix("ph-"),
                "description": "the multilingual phone recogniser's convolutions up to this tap, weights frozen and "
                               "copied into this graph"}
    return {"model": f"{asr['name']} {asr['version']}", "tap": tap,
            "description": "the ASR encoder's convolutions up to this tap, weights frozen and copied into this graph"}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ckpt", default=os.path.join(HERE, "work", "ckpt", "best.pt"))
    ap.add_argument("--out", default=OUT)
    ap.add_argument("--und-below", type=float, default=0.5)
    ap.add_argument("--train-minutes", type=float, default=None,
                    help="the training run's budget (required for a trained head; a linear probe is fitted)")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    ck = torch.load(args.ckpt)
    front = ck.get("front", "")
    linear = ck.get("head", "conv") == "linear"
    if not linear and args.train_minutes is None:
        ap.error("--train-minutes is required for a trained checkpoint")
    model = build(len(CLASSES), front, ck.get("head", "conv"))
    model.load_state_dict(ck["model"])
    model.eval()
    dummy = torch.randn(1, 300, 80) - 8
    path = os.path.join(args.out, "model.onnx")
    torch.onnx.export(model, (dummy,), path, input_names=["features"], output_names=["log_probs"],
                      dynamic_axes={"features": {0: "N", 1: "T"}, "log_probs": {0: "N"}}, opset_version=13)
    # Same answer from the exported graph's reference: torch on the same features.
    with torch.no_grad():
        x = np.sin(np.arange(16000) * 0.05).astype(np.float32) * 0.3
        feats = torch.from_numpy(fbank_np(x))[None]
        ref = model(feats)[0].numpy()
    manifest = {
        "name": "language-id-telephony",
        "version": "2.0.0" if front else "1.0.0",
        "task": "language-id",
        "sampleRate": 8000,
        "features": {
            "type": "log-mel-fbank", "dim": 80, "windowMs": 25, "hopMs": 10, "windowSamples": 200,
            "hopSamples": 80, "nFft": 256, "window": "hann", "windowPeriodic": True,
            "sampleScale": "int16 / 32768 (samples in [-1, 1))", "preemphasis": 0.97, "dither": 0,
            "removeDcOffset": False, "melLowHz": 0, "melHighHz": 4000, "melBins": 80, "melScale": "slaney",
            "melNorm": "slaney", "logFloor": 1.1920928955078125e-07, "log": "natural", "snipEdges": False,
            "normalization": "global-in-graph" if front else "utterance-mean-in-graph",
        },
        "inputs": [{"name": "features", "dtype": "float32", "shape": ["N", "T", 80]}],
        "outputs": [{"name": "log_probs", "dtype": "float32", "shape": ["N", len(CLASSES)]}],
        "labels": [
            {"tag": c, "language": LANGUAGE_OF[c], **label_sources(c, ck.get("tagKinds"))} for c in CLASSES
        ],
        "minSpeechMs": 500,
        "undBelow": args.und_below,
        "files": {"fp32": "model.onnx"},
        "executionProviders": ["cpu"],
        "provenance": {
            "recipe": "models/recipes/language",
            **({"classifier": "one linear layer on the mean and standard deviation over time of the front's "
                              "activations, fitted by probe_taps.py --save, each training speaker weighted equally"}
               if linear else {"checkpointStep": int(ck["step"]), "trainMinutes": args.train_minutes}),
            "front": front_provenance(front),
            "devUtteranceAccuracy": float(ck.get("dev", -1)),
            "heldOutSpeakers": ["asterisk-prompt-es-co", "asterisk-prompt-fr-armelle",
                                "asterisk-prompt-it-menardi-wav"],
            "checkSignal": "0.3*sin(0.05*n), n < 16000, 8 kHz",
            "checkLogProbs": [round(float(v), 5) for v in ref],
        },
    }
    with open(os.path.join(args.out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2, ensure_ascii=False)
        f.write("\n")
    print(f"{path}: {os.path.getsize(path)} bytes; parameters {sum(p.numel() for p in model.parameters())}")


if __name__ == "__main__":
    main()
