"""Builds a SMALL, UNTRAINED model in the emotion2vec ONNX layout, to test the loader and the service.

Layout: input "waveform" float32 [N, T] (16 kHz, samples in [-1, 1)) and "lengths" int64 [N];
outputs "logits" float32 [N, 9] over the emotion2vec classes and "embedding" float32 [N, 64].
The weights are random (seed 19): its labels mean nothing. A deployment brings a real export.
"""

import json
import sys
from pathlib import Path

import torch
from torch import nn

CLASSES = ["angry", "disgusted", "fearful", "happy", "neutral", "other", "sad", "surprised", "unknown"]
WINDOW, HOP, EMBEDDING = 400, 160, 64


class TinyEmotion2vec(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.frames = nn.Conv1d(1, 32, WINDOW, stride=HOP)
        self.context = nn.Conv1d(32, EMBEDDING, 3, padding=1)
        self.head = nn.Linear(EMBEDDING, len(CLASSES))

    def forward(self, waveform: torch.Tensor, lengths: torch.Tensor):
        x = torch.relu(self.frames(waveform.unsqueeze(1)))
        x = torch.relu(self.context(x))  # [N, D, T']
        frames = torch.clamp(torch.div(lengths - WINDOW, HOP, rounding_mode="floor") + 1, min=1)
        steps = torch.arange(x.shape[2], device=x.device).unsqueeze(0)
        mask = (steps < frames.unsqueeze(1)).to(x.dtype).unsqueeze(1)  # padding never counts
        embedding = (x * mask).sum(dim=2) / mask.sum(dim=2)
        return self.head(embedding), embedding


def main(out_dir: Path) -> None:
    torch.manual_seed(19)
    model = TinyEmotion2vec().eval()
    out_dir.mkdir(parents=True, exist_ok=True)
    waveform = torch.zeros(2, 16000)
    lengths = torch.tensor([16000, 8000], dtype=torch.int64)
    torch.onnx.export(
        model,
        (waveform, lengths),
        str(out_dir / "model.onnx"),
        input_names=["waveform", "lengths"],
        output_names=["logits", "embedding"],
        dynamic_axes={"waveform": {0: "N", 1: "T"}, "lengths": {0: "N"}, "logits": {0: "N"}, "embedding": {0: "N"}},
        opset_version=13,
    )
    manifest = {
        "name": "emotion-e2v-tiny",
        "version": "1",
        "task": "emotion2vec",
        "sampleRate": 16000,
        "file": "model.onnx",
        "inputs": [
            {"name": "waveform", "dtype": "float32", "shape": ["N", "T"]},
            {"name": "lengths", "dtype": "int64", "shape": ["N"]},
        ],
        "outputs": [
            {"name": "logits", "dtype": "float32", "shape": ["N", len(CLASSES)]},
            {"name": "embedding", "dtype": "float32", "shape": ["N", EMBEDDING]},
        ],
        "logitsOutput": "logits",
        "embeddingOutput": "embedding",
        "labels": CLASSES,
        "executionProviders": ["cpu", "cuda"],
        "provenance": {
            "recipe": "models/recipes/emotion/build_e2v_tiny.py",
            "weights": "random (torch seed 19), untrained: tests the emotion2vec layout, its labels mean nothing",
            "parameters": sum(p.numel() for p in model.parameters()),
            "torch": torch.__version__,
        },
    }
    (out_dir / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    print(f"wrote {out_dir}/model.onnx ({manifest['provenance']['parameters']} parameters)")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "models/emotion-e2v-tiny"))
