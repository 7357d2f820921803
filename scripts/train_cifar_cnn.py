"""Train the CIFAR-10 CNN example (3 conv blocks + 3 fully connected layers) and export it to ONNX.

conv(3->32) -> conv(32->64) -> conv(64->64), each 3x3 pad 1 + BatchNorm + ReLU +
maxpool 2, then fc1 1024->256, ReLU, fc2 256->256 (the bottleneck qnnc works on),
ReLU, fc3 256->10. BatchNorm is folded into the convolutions at export, so the
ONNX graph holds only Conv, Relu, MaxPool, Flatten and Gemm. The model takes
normalised NCHW input: pixels/255, then (x - mean)/std per channel, i.e. qnnc
--preprocess=mean:0.4914/0.4822/0.4465,std:0.247/0.243/0.261.

Usage (Debian's interpreter, see scripts/setup-train.sh):
    /usr/bin/python3 scripts/train_cifar_cnn.py [--data DIR] [--out PATH] [--epochs N]
DIR holds cifar10/ (default: ../shared/data next to the repository).
"""

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import datasets  # noqa: E402

import torch  # noqa: E402
from torch import nn  # noqa: E402

MEAN = (0.4914, 0.4822, 0.4465)
STD = (0.247, 0.243, 0.261)


def conv_block(cin, cout):
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout),
                         nn.ReLU(), nn.MaxPool2d(2))


class CifarCnn(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = conv_block(3, 32)
        self.conv2 = conv_block(32, 64)
        self.conv3 = conv_block(64, 64)
        self.flatten = nn.Flatten()
        self.fc1 = nn.Linear(64 * 4 * 4, 256)
        self.relu1 = nn.ReLU()
        self.fc2 = nn.Linear(256, 256)
        self.relu2 = nn.ReLU()
        self.fc3 = nn.Linear(256, 10)

    def forward(self, x):
        x = self.flatten(self.conv3(self.conv2(self.conv1(x))))
        x = self.relu1(self.fc1(x))
        x = self.relu2(self.fc2(x))
        return self.fc3(x)


def augment(xb, gen):
    """Random 32x32 crop of the 4-pixel zero-padded image (zero = the mean after
    normalisation) and a random horizontal flip, per image."""
    n = xb.shape[0]
    padded = nn.functional.pad(xb, (4, 4, 4, 4))
    off = torch.randint(0, 9, (n, 2), generator=gen)
    flip = torch.randint(0, 2, (n,), generator=gen).bool()
    out = torch.empty_like(xb)
    for i in range(n):
        r, c = int(off[i, 0]), int(off[i, 1])
        out[i] = padded[i, :, r:r + 32, c:c + 32]
    out[flip] = out[flip].flip(3)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=datasets.DEFAULT_DATA, help="folder holding cifar10/")
    ap.add_argument("--out", default=os.path.join(datasets.REPO_ROOT, "examples", "cifar10-cnn", "model.onnx"))
    ap.add_argument("--epochs", type=int, default=15)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--lr", type=float, default=0.1, help="peak learning rate of the one-cycle schedule")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    datasets.torch_setup(args.seed)
    xtr, ytr = datasets.load_cifar10(os.path.join(args.data, "cifar10"), "train")
    xte, yte = datasets.load_cifar10(os.path.join(args.data, "cifar10"), "test")
    xtr, xte = datasets.normalise(xtr, MEAN, STD), datasets.normalise(xte, MEAN, STD)
    xtr_t, ytr_t = torch.from_numpy(xtr), torch.from_numpy(ytr)

    model = CifarCnn()
    steps = (len(xtr_t) + args.batch - 1) // args.batch
    opt = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9, nesterov=True, weight_decay=5e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=args.lr, epochs=args.epochs, steps_per_epoch=steps)
    loss_fn = nn.CrossEntropyLoss()
    gen = torch.Generator().manual_seed(args.seed + 1)
    t0 = time.time()
    for epoch in range(1, args.epochs + 1):
        model.train()
        perm = torch.randperm(len(xtr_t), generator=gen)
        total = 0.0
        for i in range(0, len(perm), args.batch):
            idx = perm[i:i + args.batch]
            opt.zero_grad()
            loss = loss_fn(model(augment(xtr_t[idx], gen)), ytr_t[idx])
            loss.backward()
            opt.step()
            sched.step()
            total += float(loss) * len(idx)
        acc = datasets.torch_accuracy(model, xte, yte)
        print("epoch %d  loss %.4f  test acc %.4f  %.1fs" % (epoch, total / len(perm), acc, time.time() - t0), flush=True)
    train_s = time.time() - t0

    torch_acc = datasets.torch_accuracy(model, xte, yte)
    np_acc, diff = datasets.export_and_check(model, (3, 32, 32), args.out, xte, yte)
    print("train time %.1fs" % train_s)
    print("test accuracy (torch, 10000 images): %.4f" % torch_acc)
    print("test accuracy (numpy on the ONNX initializers): %.4f  max |logit diff| %.2e" % (np_acc, diff))
    print("%s  %d bytes  sha256 %s" % (args.out, os.path.getsize(args.out), datasets.sha256_of(args.out)))
    if abs(np_acc - torch_acc) > 2e-4:
        sys.exit("error: ONNX re-check accuracy differs from torch by more than 2 images")


if __name__ == "__main__":
    main()
