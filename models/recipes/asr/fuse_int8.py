"""Fuse the INT8 streaming graph's rescaling into its integer matrix products.

quantize_static_gemm (export.py) writes every matrix product as
    QuantizeLinear -> MatMulInteger -> Cast -> Mul(scale) [-> Add(bias)].
onnxruntime runs those as four or five kernels each; its CPU contrib operator
com.microsoft.MatMulIntegerToFloat does the product, the scaling and the bias in one. onnxruntime fuses
that pattern by itself only when the scale is a Mul of two runtime scales, which constant folding removes
here, so the graph is written with the fused operator. a_scale is 1 and b_scale the per-column scale
(activation scale x weight scale) that the Mul applied, so every output is bit for bit what the
unfused graph gives.

    /usr/bin/python3 fuse_int8.py model.streaming.int8.onnx   # rewrites the file in place
"""
import sys

import numpy as np
import onnx
from onnx import helper, numpy_helper

UNIT_SCALE = "int8_unit_scale"


def fuse_int8_rescale(src, dst):
    m = onnx.load(src)
    g = m.graph
    consumers = {}
    for node in g.node:
        for name in node.input:
            consumers.setdefault(name, []).append(node)

    def only_consumer(name, op_type):
        users = consumers.get(name, [])
        return users[0] if len(users) == 1 and users[0].op_type == op_type else None

    replaced, fused = set(), 0
    nodes = []
    for node in g.node:
        if id(node) in replaced:
            continue
        if node.op_type != "MatMulInteger":
            nodes.append(node)
            continue
        cast = only_consumer(node.output[0], "Cast")
        mul = cast and only_consumer(cast.output[0], "Mul")
        assert mul is not None, f"{node.name}: MatMulInteger not followed by Cast -> Mul"
        assert mul.input[0] == cast.output[0], f"{mul.name}: the scale is not Mul's second input"
        add = only_consumer(mul.output[0], "Add")
        if add is not None and add.input[0] != mul.output[0]:
            add = None
        a_zero = node.input[2] if len(node.input) > 2 else ""
        b_zero = node.input[3] if len(node.input) > 3 else ""
        inputs = [node.input[0], node.input[1], UNIT_SCALE, mul.input[1], a_zero, b_zero]
        output = mul.output[0]
        replaced.update((id(cast), id(mul)))
        if add is not None:
            inputs.append(add.input[1])
            output = add.output[0]
            replaced.add(id(add))
        while inputs and inputs[-1] == "":
            inputs.pop()
        nodes.append(helper.make_node("MatMulIntegerToFloat", inputs, [output], name=node.name + "_to_float",
                                      domain="com.microsoft"))
        fused += 1
    del g.node[:]
    g.node.extend(nodes)
    if fused:
        g.initializer.append(numpy_helper.from_array(np.array(1.0, np.float32), UNIT_SCALE))
        if not any(o.domain == "com.microsoft" for o in m.opset_import):
            m.opset_import.append(helper.make_opsetid("com.microsoft", 1))
    onnx.save(m, dst)
    return fused


if __name__ == "__main__":
    path = sys.argv[1]
    print(f"{path}: {fuse_int8_rescale(path, path)} matrix products fused with their rescaling")
