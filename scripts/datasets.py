"""Readers for the MNIST (IDX, gzipped or raw) and CIFAR-10 (binary) files, plus the
ONNX helpers shared by the training scripts (numpy-only re-check, sha256).

Images come back as uint8 NCHW arrays; scaling and normalisation are the caller's
job so that the exact preprocessing is written out in each training script.
"""

import gzip
import hashlib
import os
import struct

import numpy as np

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_DATA = os.path.normpath(os.path.join(REPO_ROOT, "..", "shared", "data"))


def _open_maybe_gz(path):
    """Open PATH, else PATH.gz; the IDX files may be stored either way."""
    if os.path.exists(path):
        return open(path, "rb")
    if os.path.exists(path + ".gz"):
        return gzip.open(path + ".gz", "rb")
    raise FileNotFoundError("neither %s nor %s.gz exists" % (path, path))


def _read_idx(path, magic, ndim):
    with _open_maybe_gz(path) as f:
        buf = f.read()
    if len(buf) < 4 + 4 * ndim:
        raise ValueError("%s: truncated IDX header" % path)
    got = struct.unpack(">I", buf[:4])[0]
    if got != magic:
        raise ValueError("%s: bad IDX magic 0x%08x (want 0x%08x)" % (path, got, magic))
    dims = struct.unpack(">" + "I" * ndim, buf[4:4 + 4 * ndim])
    data = np.frombuffer(buf, dtype=np.uint8, offset=4 + 4 * ndim)
    if data.size != int(np.prod(dims)):
        raise ValueError("%s: %d data bytes, header says %s" % (path, data.size, dims))
    return data.reshape(dims)


def load_mnist(folder, split):
    """Return (images uint8 [N,1,28,28], labels int64 [N]) for split 'train' or 't10k'."""
    x = _read_idx(os.path.join(folder, "%s-images-idx3-ubyte" % split), 0x803, 3)
    y = _read_idx(os.path.join(folder, "%s-labels-idx1-ubyte" % split), 0x801, 1)
    if x.shape[0] != y.shape[0]:
        raise ValueError("MNIST %s: %d images but %d labels" % (split, x.shape[0], y.shape[0]))
    return x.reshape(-1, 1, 28, 28), y.astype(np.int64)


CIFAR_RECORD = 1 + 3 * 32 * 32


def load_cifar10(folder, split):
    """Return (images uint8 [N,3,32,32], labels int64 [N]) for split 'train' or 'test'."""
    names = ["data_batch_%d.bin" % i for i in range(1, 6)] if split == "train" else ["test_batch.bin"]
    xs, ys = [], []
    for name in names:
        path = os.path.join(folder, name)
        raw = np.fromfile(path, dtype=np.uint8)
        if raw.size % CIFAR_RECORD:
            raise ValueError("%s: size %d is not a multiple of %d" % (path, raw.size, CIFAR_RECORD))
        rec = raw.reshape(-1, CIFAR_RECORD)
        ys.append(rec[:, 0].astype(np.int64))
        xs.append(rec[:, 1:].reshape(-1, 3, 32, 32))
    return np.concatenate(xs), np.concatenate(ys)


def normalise(x_u8, mean, std):
    """pixels/255, then (x - mean)/std per channel; float32 NCHW."""
    x = x_u8.astype(np.float32) / np.float32(255.0)
    m = np.asarray(mean, dtype=np.float32).reshape(1, -1, 1, 1)
    s = np.asarray(std, dtype=np.float32).reshape(1, -1, 1, 1)
    return (x - m) / s


def sha256_of(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


# --- numpy-only ONNX forward, for checking an export independently of torch ---
# Covers just the ops the example models use; anything else is an error.

def _attrs(node):
    from onnx import helper
    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


def _conv(x, w, b, a):
    if a.get("group", 1) != 1 or any(d != 1 for d in a.get("dilations", [1, 1])):
        raise NotImplementedError("Conv: only group=1, dilation=1")
    if a.get("auto_pad", b"NOTSET") not in (b"NOTSET", "NOTSET"):
        raise NotImplementedError("Conv: auto_pad")
    pt, pl, pb, pr = a.get("pads", [0, 0, 0, 0])
    sh, sw = a.get("strides", [1, 1])
    x = np.pad(x, ((0, 0), (0, 0), (pt, pb), (pl, pr)))
    n, c, h, wd = x.shape
    m, _, kh, kw = w.shape
    oh, ow = (h - kh) // sh + 1, (wd - kw) // sw + 1
    # im2col: [N, C*kh*kw, oh*ow] then one matmul
    cols = np.empty((n, c, kh, kw, oh, ow), dtype=x.dtype)
    for i in range(kh):
        for j in range(kw):
            cols[:, :, i, j] = x[:, :, i:i + sh * oh:sh, j:j + sw * ow:sw]
    y = np.matmul(w.reshape(m, -1), cols.reshape(n, c * kh * kw, oh * ow))
    if b is not None:
        y += b.reshape(1, m, 1)
    return y.reshape(n, m, oh, ow)


def _maxpool(x, a):
    kh, kw = a["kernel_shape"]
    sh, sw = a.get("strides", [1, 1])
    if any(a.get("pads", [0, 0, 0, 0])) or a.get("ceil_mode", 0):
        raise NotImplementedError("MaxPool: pads/ceil_mode")
    n, c, h, w = x.shape
    oh, ow = (h - kh) // sh + 1, (w - kw) // sw + 1
    y = np.full((n, c, oh, ow), -np.inf, dtype=x.dtype)
    for i in range(kh):
        for j in range(kw):
            y = np.maximum(y, x[:, :, i:i + sh * oh:sh, j:j + sw * ow:sw])
    return y


def _gemm(a_, b_, c_, a):
    if a.get("transA", 0):
        a_ = a_.T
    if a.get("transB", 0):
        b_ = b_.T
    y = a.get("alpha", 1.0) * (a_ @ b_)
    if c_ is not None:
        y = y + a.get("beta", 1.0) * c_
    return y


def _batchnorm(x, scale, bias, mean, var, a):
    eps = a.get("epsilon", 1e-5)
    sh = (1, -1) + (1,) * (x.ndim - 2)
    return (x - mean.reshape(sh)) / np.sqrt(var.reshape(sh) + eps) * scale.reshape(sh) + bias.reshape(sh)


def numpy_forward(model, x):
    """Evaluate an ONNX ModelProto on x with numpy alone; returns the first graph output."""
    from onnx import numpy_helper
    g = model.graph
    env = {t.name: numpy_helper.to_array(t) for t in g.initializer}
    env[g.input[0].name] = x
    for node in g.node:
        a = _attrs(node)
        ins = [env[i] if i else None for i in node.input]
        op = node.op_type
        if op == "Gemm":
            y = _gemm(ins[0], ins[1], ins[2] if len(ins) > 2 else None, a)
        elif op == "Relu":
            y = np.maximum(ins[0], 0)
        elif op == "Flatten":
            ax = a.get("axis", 1)
            y = ins[0].reshape(int(np.prod(ins[0].shape[:ax])), -1)
        elif op == "Conv":
            y = _conv(ins[0], ins[1], ins[2] if len(ins) > 2 else None, a)
        elif op == "MaxPool":
            y = _maxpool(ins[0], a)
        elif op == "BatchNormalization":
            y = _batchnorm(ins[0], *ins[1:5], a)
        elif op == "Constant":
            y = numpy_helper.to_array(a["value"])
        elif op == "Reshape":
            shape = [ins[0].shape[i] if s == 0 else s for i, s in enumerate(ins[1].tolist())]
            y = ins[0].reshape(shape)
        else:
            raise NotImplementedError("numpy_forward: op %s" % op)
        env[node.output[0]] = y.astype(np.float32)
    return env[g.output[0].name]


def numpy_accuracy(model, x, y, batch=500):
    correct = 0
    for i in range(0, len(x), batch):
        logits = numpy_forward(model, x[i:i + batch])
        correct += int((logits.argmax(1) == y[i:i + batch]).sum())
    return correct / len(x)



# --- torch helpers shared by the training scripts ---

def torch_setup(seed, threads=2):
    """Fixed seed, deterministic kernels, fixed thread count (results depend on it)."""
    import random
    import torch
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(threads)


def torch_accuracy(model, x, y, batch=1000):
    import torch
    model.eval()
    correct = 0
    with torch.no_grad():
        for i in range(0, len(x), batch):
            logits = model(torch.from_numpy(x[i:i + batch]))
            correct += int((logits.argmax(1).numpy() == y[i:i + batch]).sum())
    return correct / len(x)


def _name_folded_params(m):
    """Parameters created by the exporter (BatchNorm folded into Conv) get names
    like onnx::Conv_44; call them <layer>.weight / <layer>.bias after the module
    scope in the node name (/conv1/conv1.0/Conv -> conv1). Returns whether any changed."""
    inits = {t.name: t for t in m.graph.initializer}
    renames = {}
    for node in m.graph.node:
        if node.op_type not in ("Conv", "Gemm") or not node.name.startswith("/"):
            continue
        layer = node.name.split("/")[1]
        for i, suffix in ((1, "weight"), (2, "bias")):
            if i < len(node.input) and node.input[i].startswith("onnx::") and node.input[i] in inits:
                new = "%s.%s" % (layer, suffix)
                if new in inits or new in renames.values():
                    raise ValueError("parameter name %s already taken" % new)
                renames[node.input[i]] = new
    for old, new in renames.items():
        inits[old].name = new
    for node in m.graph.node:
        for i, name in enumerate(node.input):
            if name in renames:
                node.input[i] = renames[name]
    for vi in list(m.graph.input) + list(m.graph.value_info):
        if vi.name in renames:
            vi.name = renames[vi.name]
    return bool(renames)


def export_and_check(model, in_shape, out_path, x_test, y_test):
    """Export MODEL (eval mode) to ONNX the way every example is exported, run
    onnx.checker on it and re-measure test accuracy with numpy_forward.
    Returns (numpy accuracy, max |logit difference| torch vs numpy on 500 images)."""
    import onnx
    import torch
    model.eval()
    os.makedirs(os.path.dirname(os.path.abspath(out_path)), exist_ok=True)
    torch.onnx.export(model, torch.zeros((1,) + tuple(in_shape)), out_path,
                      export_params=True, opset_version=13, do_constant_folding=True,
                      training=torch.onnx.TrainingMode.EVAL,
                      input_names=["input"], output_names=["logits"],
                      dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}})
    m = onnx.load(out_path)
    if _name_folded_params(m):
        onnx.save(m, out_path)
    onnx.checker.check_model(m, full_check=True)
    print("onnx graph:", ", ".join("%s(%s)" % (n.name, n.op_type) for n in m.graph.node))
    print("initializers:", ", ".join("%s%s" % (t.name, list(t.dims)) for t in m.graph.initializer))
    with torch.no_grad():
        ref = model(torch.from_numpy(x_test[:500])).numpy()
    diff = float(np.abs(ref - numpy_forward(m, x_test[:500])).max())
    return numpy_accuracy(m, x_test, y_test), diff
