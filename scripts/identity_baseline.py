#!/usr/bin/python3
"""identity_baseline.py - the honest baseline of the hybrid results table
(issue 8): the same network with one square linear layer replaced by the
identity, written as a new ONNX model that qnnc then heals with the same
recipe as the quantum layer.

    /usr/bin/python3 scripts/identity_baseline.py MODEL.onnx NODE OUT.onnx

NODE is the name of a Gemm (or MatMul) node whose weight is square; its
output becomes an Identity of its data input (the bias goes too), and
initializers nothing else reads are dropped. Needs python3-onnx
(scripts/setup-train.sh)."""
import sys

import onnx
from onnx import helper, numpy_helper


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    path, name, out = sys.argv[1:]
    m = onnx.load(path)
    g = m.graph
    inits = {t.name: t for t in g.initializer}
    for i, n in enumerate(g.node):
        if n.name != name:
            continue
        if n.op_type not in ("Gemm", "MatMul"):
            sys.exit(f"{path}: node '{name}' is {n.op_type}, not Gemm or MatMul")
        w = inits.get(n.input[1])
        if w is None:
            sys.exit(f"{path}: node '{name}': weight '{n.input[1]}' is not an initializer")
        shape = numpy_helper.to_array(w).shape
        if len(shape) != 2 or shape[0] != shape[1]:
            sys.exit(f"{path}: node '{name}': weight {shape} is not square; identity would change the width")
        g.node[i].CopyFrom(helper.make_node("Identity", [n.input[0]], [n.output[0]], name=name + "/identity"))
        break
    else:
        sys.exit(f"{path}: no node named '{name}'")
    used = {x for n in g.node for x in n.input}
    keep = [t for t in g.initializer if t.name in used]
    del g.initializer[:]
    g.initializer.extend(keep)
    onnx.checker.check_model(m)
    onnx.save(m, out)


if __name__ == "__main__":
    main()
