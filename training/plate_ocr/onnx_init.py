"""Starts a PyTorch `PlateOcr` from an exported ONNX recogniser (for fine-tuning a shipped model).

ONNX export folds every BatchNorm into the convolution before it, so the file holds each conv's
fused weight W and bias b, and no BatchNorm statistics. To fine-tune with BatchNorm layers again,
the conv gets W (no bias) and its BatchNorm is set so that it computes the same function in both
modes: its running mean/var are the batch statistics of W*x measured on real inputs, gamma =
sqrt(var + eps) and beta = mean + b. In eval mode the model is then exactly the ONNX model; in
training mode it starts within the batch noise of it.
"""
import numpy as np
import onnx
import torch
from onnx import numpy_helper


def load(model, path, sample):
    """Loads the ONNX file `path` into `model` (a `model.PlateOcr` of the same widths), using the
    float tensor `sample` ([N, 1, H, W], N of a few hundred) to measure BatchNorm statistics."""
    g = onnx.load(path).graph
    init = {i.name: numpy_helper.to_array(i) for i in g.initializer}
    convs = [n for n in g.node if n.op_type == "Conv"]
    feature_convs = [n for n in convs if not n.input[1].startswith("head.")]
    pairs = []  # (conv, bn) in model.features order
    mods = list(model.features)
    for i, m in enumerate(mods):
        if isinstance(m, torch.nn.Conv2d):
            pairs.append((m, mods[i + 1]))
    if len(pairs) != len(feature_convs):
        raise ValueError(f"{path}: {len(feature_convs)} feature convolutions, the model has {len(pairs)}")
    state = model.state_dict()
    for k in ("head.0.weight", "head.0.bias", "head.3.weight", "head.3.bias"):
        state[k] = torch.from_numpy(init[k].copy())
    model.load_state_dict(state)
    biases = []
    with torch.no_grad():
        for (conv, bn), node in zip(pairs, feature_convs):
            w = torch.from_numpy(init[node.input[1]].copy())
            if w.shape[2] != conv.weight.shape[2] and w.shape[3] == 1 and w.shape[:2] == conv.weight.shape[:2]:
                # The height-collapsing conv of a model trained at another input height (e.g. a
                # 32-px model started at 48 px): resample its taps along the height and keep its
                # total gain; the BatchNorm after it is re-measured below anyway.
                h_old, h_new = w.shape[2], conv.weight.shape[2]
                w = torch.nn.functional.interpolate(w, size=(h_new, 1), mode="bilinear", align_corners=True)
                w = w * (h_old / h_new)
            if tuple(w.shape) != tuple(conv.weight.shape):
                raise ValueError(f"{path}: conv {node.input[1]} is {tuple(w.shape)}, model wants {tuple(conv.weight.shape)}")
            conv.weight.copy_(w)
            biases.append(torch.from_numpy(init[node.input[2]].copy()))
        # Measure each BatchNorm's input statistics layer by layer, with the layers before it
        # already set up to reproduce the ONNX model.
        x = sample
        k = 0
        for m in mods:
            if isinstance(m, torch.nn.BatchNorm2d):
                mean = x.mean(dim=(0, 2, 3))
                var = x.var(dim=(0, 2, 3), unbiased=False)
                m.running_mean.copy_(mean)
                m.running_var.copy_(var)
                m.weight.copy_(torch.sqrt(var + m.eps))
                m.bias.copy_(mean + biases[k])
                k += 1
                m.eval()
            x = m(x)
    model.train()
    return model


def check(model, path, sample):
    """Largest absolute difference between `model` (eval mode) and the ONNX file on `sample`."""
    import onnxruntime as ort
    s = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    model.eval()
    with torch.no_grad():
        mine = model(sample).numpy()
    model.train()
    theirs = s.run(None, {"image": sample.numpy()})[0]
    return float(np.abs(mine - theirs).max())
