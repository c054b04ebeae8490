"""Warm start: load a published model.onnx (whole-utterance graph) back into model.py's CtcModel.

The exporter folds each batch norm into the pointwise convolution before it, so the graph holds one weight and
bias per pointwise conv (in forward order: c1, each block's subs then res, c2, c3), the depthwise weights by name,
and the normalisation constants. Loaded as-is (batch norm as identity) the eval-mode model equals the graph; for
training, batch statistics must not undo that, so `calibrate_bn` measures each pointwise output's mean and variance
on training batches and re-parameterises its batch norm to running stats (mean, var) with gamma = sqrt(var + eps)
and beta = bias + mean: the same function in eval mode, and nearly the same in training mode.

`load_onnx_grown` warm-starts a deeper model from a graph with fewer residual blocks: the graph's blocks fill the
model's other blocks in order, and each new block starts as the identity (its residual convolution the identity
matrix, its last pointwise convolution zero, so relu(0 + x) = x for the non-negative activations between blocks).
The grown model computes exactly what the graph does until training moves the new blocks.
"""
import re
import numpy as np
import onnx
import torch
from onnx import numpy_helper


def pointwise_pairs(m):
    pairs = [(m.c1.pw, m.c1.bn)]
    for b in m.blocks:
        pairs += [(s.pw, s.bn) for s in b.subs] + [(b.res[0], b.res[1])]
    pairs += [(m.c2.pw, m.c2.bn), (m.c3[0], m.c3[1])]
    return pairs


def bn_as_identity(bn, bias):
    """A batch norm that, in eval mode, only adds `bias` (the form load_onnx leaves and calibrate_bn expects)."""
    bn.weight.fill_(1.0)
    bn.bias.copy_(bias)
    bn.running_mean.zero_()
    bn.running_var.fill_(1.0 - bn.eps)


def load_onnx(model, path):
    g = onnx.load(path).graph
    inits = {i.name: numpy_helper.to_array(i) for i in g.initializer}
    sd = model.state_dict()
    with torch.no_grad():
        for name, v in inits.items():
            if name.startswith("m."):
                sd[name[2:]].copy_(torch.from_numpy(v.copy()))
        conv = sorted((int(re.search(r"_(\d+)$", n).group(1)), n) for n in inits if n.startswith("onnx::Conv_"))
        names = [n for _, n in conv]
        pairs = pointwise_pairs(model)
        assert len(names) == 2 * len(pairs), (len(names), len(pairs))
        for k, (pw, bn) in enumerate(pairs):
            w, b = inits[names[2 * k]], inits[names[2 * k + 1]]
            assert tuple(w.shape) == tuple(pw.weight.shape), (names[2 * k], w.shape, pw.weight.shape)
            pw.weight.copy_(torch.from_numpy(w.copy()))
            bn_as_identity(bn, torch.from_numpy(b.copy()))
        mean = [v for n, v in inits.items() if n.startswith("onnx::Sub_")]
        std = [v for n, v in inits.items() if n.startswith("onnx::Div_")]
        assert len(mean) == 1 and len(std) == 1
        model.feat_mean.copy_(torch.from_numpy(mean[0].reshape(-1).copy()))
        model.feat_std.copy_(torch.from_numpy(std[0].reshape(-1).copy()))
    return model


def load_onnx_grown(model, path, new_blocks):
    """model: a CtcModel with more residual blocks than the graph at `path`; new_blocks: the indices of the model's
    blocks the graph lacks. Returns the model, computing the graph's function (see the module docstring)."""
    from model import CtcModel
    new = sorted(set(new_blocks))
    keep = [i for i in range(len(model.blocks)) if i not in new]
    if not new or new[0] < 0 or new[-1] >= len(model.blocks):
        raise ValueError(f"new blocks {new_blocks} must be indices of the model's {len(model.blocks)} blocks")
    cfg = dict(model.cfg)
    cfg["blocks"] = [cfg["blocks"][i] for i in keep]
    cfg["dilations"] = [cfg["dilations"][i] for i in keep]
    small = load_onnx(CtcModel(**cfg), path)
    sd = model.state_dict()
    with torch.no_grad():
        for name, v in small.state_dict().items():
            if name.startswith("blocks."):
                i, rest = name[len("blocks."):].split(".", 1)
                name = f"blocks.{keep[int(i)]}.{rest}"
            sd[name].copy_(v)
        for i in new:
            b = model.blocks[i]
            c = b.res[0].weight.shape[0]
            b.res[0].weight.copy_(torch.eye(c)[:, :, None])
            for bn in [s.bn for s in b.subs] + [b.res[1]]:
                bn_as_identity(bn, torch.zeros_like(bn.bias))
            b.subs[-1].pw.weight.zero_()
        # the grown model must compute the graph's function before training
        model.eval()
        small.eval()
        x = torch.randn(2, model.cfg["nmel"], 160) * 3 - 9
        n = torch.tensor([160, 97])
        diff = float((model(x, n)[0] - small(x, n)[0]).abs().max())
    if diff > 1e-4:
        raise ValueError(f"grown model differs from {path} by {diff:.2e} before training")
    return model


def calibrate_bn(model, batches):
    """batches: iterable of (feats [N, 80, T], flen). Re-parameterises every batch norm as described above."""
    pairs = pointwise_pairs(model)
    acc = {id(pw): [0.0, 0.0, 0] for pw, _ in pairs}
    masks = {}

    def hook(mod, inp, out):
        m = model.time_mask(masks["olen"], out.shape[2])
        a = acc[id(mod)]
        mm = m.expand_as(out)
        a[0] = a[0] + (out * mm).sum(dim=(0, 2)).double()
        a[1] = a[1] + (out * out * mm).sum(dim=(0, 2)).double()
        a[2] += float(m.sum())

    hs = [pw.register_forward_hook(hook) for pw, _ in pairs]
    model.eval()
    with torch.no_grad():
        for feats, flen in batches:
            masks["olen"] = torch.div(flen, 2, rounding_mode="floor")
            model(feats, flen)
    for h in hs:
        h.remove()
    with torch.no_grad():
        for pw, bn in pairs:
            s, s2, n = acc[id(pw)]
            mu = (s / n).float()
            var = (s2 / n).float() - mu * mu
            var = var.clamp(min=1e-6)
            beta = bn.bias.clone()  # the folded bias (batch norm as identity)
            bn.running_mean.copy_(mu)
            bn.running_var.copy_(var)
            bn.weight.copy_(torch.sqrt(var + bn.eps))
            bn.bias.copy_(beta + mu)
    return model
