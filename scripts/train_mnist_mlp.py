"""Train the MNIST MLP example (784 -> 256 -> 256 -> 10, ReLU) and export it to ONNX.

fc2 is the 256x256 bottleneck layer that qnnc compresses (MPO), heals and
disentangles. The model takes normalised input: pixels/255, then
(x - 0.1307)/0.3081, i.e. qnnc --preprocess=mean:0.1307,std:0.3081.

Usage (Debian's interpreter, see scripts/setup-train.sh):
    /usr/bin/python3 scripts/train_mnist_mlp.py [--data DIR] [--out PATH] [--epochs N]
DIR holds mnist/ (default: ../shared/data next to the repository).
"""

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import datasets  # noqa: E402

import torch  # noqa: E402
from torch import nn  # noqa: E402

MEAN, STD = (0.1307,), (0.3081,)


class MnistMlp(nn.Module):
    def __init__(self):
        super().__init__()
        self.flatten = nn.Flatten()
        self.fc1 = nn.Linear(784, 256)
        self.relu1 = nn.ReLU()
        self.fc2 = nn.Linear(256, 256)
        self.relu2 = nn.ReLU()
        self.fc3 = nn.Linear(256, 10)

    def forward(self, x):
        x = self.relu1(self.fc1(self.flatten(x)))
        x = self.relu2(self.fc2(x))
        return self.fc3(x)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=datasets.DEFAULT_DATA, help="folder holding mnist/")
    ap.add_argument("--out", default=os.path.join(datasets.REPO_ROOT, "examples", "mnist-mlp", "model.onnx"))
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    datasets.torch_setup(args.seed)
    xtr, ytr = datasets.load_mnist(os.path.join(args.data, "mnist"), "train")
    xte, yte = datasets.load_mnist(os.path.join(args.data, "mnist"), "t10k")
    xtr, xte = datasets.normalise(xtr, MEAN, STD), datasets.normalise(xte, MEAN, STD)
    xtr_t, ytr_t = torch.from_numpy(xtr), torch.from_numpy(ytr)

    model = MnistMlp()
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    loss_fn = nn.CrossEntropyLoss()
    t0 = time.time()
    for epoch in range(1, args.epochs + 1):
        model.train()
        perm = torch.randperm(len(xtr_t))
        total = 0.0
        for i in range(0, len(perm), args.batch):
            idx = perm[i:i + args.batch]
            opt.zero_grad()
            loss = loss_fn(model(xtr_t[idx]), ytr_t[idx])
            loss.backward()
            opt.step()
            total += float(loss) * len(idx)
        acc = datasets.torch_accuracy(model, xte, yte)
        print("epoch %d  loss %.4f  test acc %.4f  %.1fs" % (epoch, total / len(perm), acc, time.time() - t0), flush=True)
    train_s = time.time() - t0

    torch_acc = datasets.torch_accuracy(model, xte, yte)
    np_acc, diff = datasets.export_and_check(model, (1, 28, 28), args.out, xte, yte)
    print("train time %.1fs" % train_s)
    print("test accuracy (torch, 10000 images): %.4f" % torch_acc)
    print("test accuracy (numpy on the ONNX initializers): %.4f  max |logit diff| %.2e" % (np_acc, diff))
    print("%s  %d bytes  sha256 %s" % (args.out, os.path.getsize(args.out), datasets.sha256_of(args.out)))
    if np_acc != torch_acc:
        sys.exit("error: ONNX re-check accuracy differs from torch")


if __name__ == "__main__":
    main()
