"""The English ASR model's encoder as a frozen front end for language ID.

The ASR encoder (`models/asr-en-telephony`) was trained on hundreds of synthetic voices, their pseudo-speakers and
a simulated telephone channel, to write the same letters whoever speaks: its hidden activations carry what was
said far more than who said it. A language-ID head on top of them (`model.FrontLanguageNet`) learns from sound
sequences, not from the voices of the few real speakers per language that exist here. The front's weights are
loaded from the published whole-utterance graph and never trained; the exported language-ID graph carries a copy.
"""
import importlib.util
import os
import sys

import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
ASR_DIR = os.path.join(HERE, "..", "asr")
ASR_ONNX = os.path.join(HERE, "..", "..", "asr-en-telephony", "model.onnx")
sys.path.append(ASR_DIR)
from warmstart import load_onnx  # noqa: E402


def _asr_model_module():
    """../asr/model.py under its own name (this folder has a model.py too)."""
    spec = importlib.util.spec_from_file_location("asr_model", os.path.join(ASR_DIR, "model.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


# Where the front stops: after residual block k (0-4) of the encoder, or after its last convolutions (c2, c3). With
# the prefix "ph-", the same taps of the multilingual phone recogniser (train_phones.py, PHONE_CKPT), and "ph-lp" its
# phone log-posteriors.
TAPS = ("b0", "b1", "b2", "b3", "b4", "c2", "c3")
PHONE_TAPS = tuple(f"ph-{t}" for t in TAPS) + ("ph-lp",)
PHONE_CKPT = os.path.join(HERE, "work", "ckpt-phones", "best.pt")


class AsrFront(nn.Module):
    """log-mel [N, T, 80] (raw, as the ASR model takes it) -> activations [N, C, T/2] at `tap`, frozen."""

    def __init__(self, tap="c3", onnx_path=ASR_ONNX):
        super().__init__()
        if tap not in TAPS + PHONE_TAPS:
            raise ValueError(f"tap must be one of {TAPS + PHONE_TAPS}, not {tap}")
        self.tap = tap.removeprefix("ph-")
        if tap.startswith("ph-"):
            from train_phones import load_phone_model
            self.enc, _ = load_phone_model(PHONE_CKPT)
        else:
            am = _asr_model_module()
            self.enc = load_onnx(am.CtcModel(**am.STREAMING_CONFIG), onnx_path)
        if self.tap == "lp":
            self.channels = self.enc.out.out_channels
        else:
            self._truncate(self.tap)
        for p in self.enc.parameters():
            p.requires_grad_(False)
        self.enc.eval()

    def _truncate(self, tap):
        """Drops every layer after `tap`, so the exported graph carries only what the front computes."""
        n_blocks = int(tap[1]) + 1 if tap.startswith("b") else len(self.enc.blocks)
        self.enc.blocks = self.enc.blocks[:n_blocks]
        if tap.startswith("b"):
            self.enc.c2, self.enc.c3 = None, None
        elif tap == "c2":
            self.enc.c3 = None
        self.enc.out = None
        self.channels = self.enc.cfg["c_end"] if tap.startswith("c") else self.enc.cfg["c"]

    def train(self, mode=True):  # the front stays in eval mode: its batch norms are folded constants
        super().train(mode)
        self.enc.eval()
        return self

    def forward(self, feats):
        x = feats.transpose(1, 2)
        length = torch.full((x.shape[0],), x.shape[2], dtype=torch.int64)
        for tap, h, _ in self.enc.encoder_taps(x, length):
            if tap == self.tap:
                return h
        return torch.log_softmax(self.enc.out(h), dim=1)  # "lp": every tap passed
