"""bench_train_torch.py - the PyTorch side of bench/bench_train.sh: the same
training loop as bench/bench_train.c (MNIST MLP from an ONNX model's
weights, Adam lr 1e-3, cross-entropy, shuffled mini-batches, all parameters
trained), timed the same way: a 20-batch warm-up on a copy of the model,
then EPOCHS epochs over the 60,000 training images with the batch
gathering (from normalised float32 images held in memory) included.

Usage (Debian's interpreter, python3-torch from scripts/setup-train.sh):
    /usr/bin/python3 bench/bench_train_torch.py MODEL.onnx MNIST_DIR [BATCH [EPOCHS [THREADS]]]
Prints one line: "torch images_per_s ... loss ... test_acc ... batch ... threads ... epochs ...".
"""

import copy
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scripts"))
import datasets  # noqa: E402

import onnx  # noqa: E402
from onnx import numpy_helper  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402


def mlp_from_onnx(path):
    """784-256-256-10 ReLU MLP with the Gemm weights of the ONNX model."""
    init = {t.name: numpy_helper.to_array(t) for t in onnx.load(path).graph.initializer}
    model = nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(),
                          nn.Linear(256, 10))
    with torch.no_grad():
        for i, name in ((1, "fc1"), (3, "fc2"), (5, "fc3")):
            model[i].weight.copy_(torch.from_numpy(init[name + ".weight"].copy()))
            model[i].bias.copy_(torch.from_numpy(init[name + ".bias"].copy()))
    return model


def epoch(model, opt, x, y, batch, limit=None):
    loss_fn = nn.CrossEntropyLoss()
    perm = torch.randperm(len(x))
    if limit is not None:
        perm = perm[:limit]
    total = 0.0
    model.train()
    for i in range(0, len(perm), batch):
        idx = perm[i:i + batch]
        opt.zero_grad()
        loss = loss_fn(model(x[idx]), y[idx])
        loss.backward()
        opt.step()
        total += float(loss) * len(idx)
    return total / len(perm)


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    path, mnist = sys.argv[1], sys.argv[2]
    batch = int(sys.argv[3]) if len(sys.argv) > 3 else 128
    epochs = int(sys.argv[4]) if len(sys.argv) > 4 else 1
    threads = int(sys.argv[5]) if len(sys.argv) > 5 else os.cpu_count()
    torch.manual_seed(0)
    torch.set_num_threads(threads)
    xtr, ytr = datasets.load_mnist(mnist, "train")
    xte, yte = datasets.load_mnist(mnist, "t10k")
    mean, std = (0.1307,), (0.3081,)
    xtr, xte = datasets.normalise(xtr, mean, std), datasets.normalise(xte, mean, std)
    x, y = torch.from_numpy(xtr), torch.from_numpy(ytr)

    model = mlp_from_onnx(path)
    warm = copy.deepcopy(model)
    epoch(warm, torch.optim.Adam(warm.parameters(), lr=1e-3), x, y, batch, limit=20 * batch)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    t0 = time.perf_counter()
    for _ in range(epochs):
        loss = epoch(model, opt, x, y, batch)
    secs = time.perf_counter() - t0
    acc = datasets.torch_accuracy(model, xte, yte)
    print("torch images_per_s %.1f loss %.4f test_acc %.4f batch %d threads %d epochs %d"
          % (len(x) * epochs / secs, loss, acc, batch, threads, epochs))


if __name__ == "__main__":
    main()
