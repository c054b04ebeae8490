/**
 * Rewrites two kinds of 1-D convolution in an ONNX model into operators onnxruntime's CPU provider runs
 * far faster, with the same weights and the same results up to float rounding:
 *
 * - A depthwise convolution (group = channels, one input channel per group) runs in onnxruntime as one
 *   tiny matrix product per channel and batch item: 16,512 of them for Silero's 258-channel layer at a
 *   batch of 64. It becomes a transpose to [N, T, C], a gather of the kernel's taps ([N, T, K, C]), a
 *   multiply by the [K, C] weights and a sum over the taps.
 * - A strided convolution of a single input channel whose kernel is a whole number of strides (Silero's
 *   STFT as a convolution) runs as one narrow matrix product per batch item. It becomes the signal cut
 *   into stride-long blocks, [N, L/s, s], and K/s matrix products of consecutive blocks with the matching
 *   rows of the kernel, summed: wide products over all frames of all batch items at once.
 *
 * Weight reshapes are written as operators on the original initializers, which onnxruntime folds into
 * constants when it loads the model. Subgraphs (If branches) are rewritten too. Anything else passes
 * through byte for byte.
 *
 * This pays where the time axis is short and the batch is wide, as in Silero (8 frames a window). Over long
 * time axes onnxruntime's per-channel products are efficient and the gathered taps cost memory: on the
 * project's whole-utterance acoustic graph (400 frames, batch 8) a pass took 1.5 times as long rewritten, so
 * this is applied to Silero only.
 */
import {
  asBytes,
  asInt,
  asString,
  bytesField,
  decodeMessage,
  encodeMessage,
  messageField,
  packedInt64Field,
  repeatedInts,
  stringField,
  varintField,
  WIRE_LEN,
  type WireField,
} from "./protobuf-wire.ts";
import {
  MODEL_GRAPH,
  MODEL_OPSET_IMPORT,
  OPSET_DOMAIN,
  OPSET_VERSION,
  GRAPH_NODE,
  GRAPH_INITIALIZER,
  NODE_INPUT,
  NODE_OUTPUT,
  NODE_NAME,
  NODE_OP_TYPE,
  NODE_ATTRIBUTE,
  NODE_DOMAIN,
  ATTR_NAME,
  ATTR_I,
  ATTR_S,
  ATTR_G,
  ATTR_INTS,
  ATTR_GRAPHS,
  ATTR_TYPE,
  ATTR_TYPE_INT,
  ATTR_TYPE_INTS,
  TENSOR_DIMS,
  TENSOR_DATA_TYPE,
  TENSOR_NAME,
  TENSOR_RAW_DATA,
  TENSOR_INT64,
} from "./onnx-fields.ts";

/** ReduceSum, Unsqueeze and Slice take their axes as inputs from opset 13 on. */
const MIN_OPSET = 13;

export interface Conv1dRewrite {
  model: Uint8Array;
  /** Depthwise convolutions rewritten. */
  depthwise: number;
  /** Strided single-channel (framing) convolutions rewritten. */
  framing: number;
}

export function rewriteConv1d(model: Uint8Array): Conv1dRewrite {
  const fields = decodeMessage(model);
  const result: Conv1dRewrite = { model, depthwise: 0, framing: 0 };
  if (defaultOpset(fields) < MIN_OPSET) return result;
  const rewriter = new Rewriter();
  let changed = false;
  const out = fields.map((f) => {
    if (f.field !== MODEL_GRAPH || f.wire !== WIRE_LEN) return f;
    const graph = rewriter.graph(asBytes(f), new Map());
    if (!graph) return f;
    changed = true;
    return bytesField(MODEL_GRAPH, graph);
  });
  if (!changed) return result;
  return { model: encodeMessage(out), depthwise: rewriter.depthwise, framing: rewriter.framing };
}

/** The model's opset of the default (ai.onnx) domain; 0 when it declares none. */
export function defaultOpset(model: readonly WireField[]): number {
  for (const f of model) {
    if (f.field !== MODEL_OPSET_IMPORT || f.wire !== WIRE_LEN) continue;
    const entry = decodeMessage(asBytes(f));
    const domain = entry.find((e) => e.field === OPSET_DOMAIN);
    const version = entry.find((e) => e.field === OPSET_VERSION);
    if ((!domain || asString(domain) === "" || asString(domain) === "ai.onnx") && version)
      return asInt(version);
  }
  return 0;
}

interface ConvNode {
  inputs: string[];
  output: string;
  attributes: Map<string, WireField[]>;
}

/** One Conv being replaced: its tensors' names, its shape, and the maker of its int64 constants. */
interface RewriteSite {
  /** Prefix of every name the replacement adds. */
  p: string;
  x: string;
  w: string;
  bias: string | null;
  y: string;
  channels: number;
  kernel: number;
  c: ConstantMaker;
}

type ConstantMaker = (name: string, values: number[], shape?: number[]) => string;

/** A node to write into a graph: op type, inputs, outputs and integer attributes (named after its first output). */
export interface NewNode {
  op: string;
  inputs: string[];
  outputs: string[];
  ints?: Record<string, number[]>;
  int?: Record<string, number>;
}

class Rewriter {
  depthwise = 0;
  framing = 0;

  /** The rewritten GraphProto, or null when nothing in it (or below it) changed. */
  graph(bytes: Uint8Array, outerDims: ReadonlyMap<string, number[]>): Uint8Array | null {
    const fields = decodeMessage(bytes);
    const dims = new Map(outerDims);
    for (const f of fields) {
      if (f.field !== GRAPH_INITIALIZER || f.wire !== WIRE_LEN) continue;
      const tensor = decodeMessage(asBytes(f));
      const name = tensor.find((t) => t.field === TENSOR_NAME);
      if (name) dims.set(asString(name), repeatedInts(tensor, TENSOR_DIMS));
    }
    let changed = false;
    const out: WireField[] = [];
    const initializers: WireField[] = [];
    for (const f of fields) {
      if (f.field !== GRAPH_NODE || f.wire !== WIRE_LEN) {
        out.push(f);
        continue;
      }
      let node = decodeMessage(asBytes(f));
      const withSubgraphs = this.#subgraphs(node, dims);
      if (withSubgraphs) {
        node = withSubgraphs;
        changed = true;
      }
      const replacement = this.#conv(node, dims, initializers);
      if (replacement) {
        for (const n of replacement) out.push(messageField(GRAPH_NODE, encodeNode(n)));
        changed = true;
      } else out.push(withSubgraphs ? messageField(GRAPH_NODE, node) : f);
    }
    if (!changed) return null;
    return encodeMessage([...out, ...initializers]);
  }

  /** The node with its graph attributes rewritten, or null when none changed. */
  #subgraphs(node: WireField[], dims: ReadonlyMap<string, number[]>): WireField[] | null {
    let changed = false;
    const out = node.map((f) => {
      if (f.field !== NODE_ATTRIBUTE || f.wire !== WIRE_LEN) return f;
      let attrChanged = false;
      const attr = decodeMessage(asBytes(f)).map((a) => {
        if ((a.field !== ATTR_G && a.field !== ATTR_GRAPHS) || a.wire !== WIRE_LEN) return a;
        const graph = this.graph(asBytes(a), dims);
        if (!graph) return a;
        attrChanged = true;
        return bytesField(a.field, graph);
      });
      if (!attrChanged) return f;
      changed = true;
      return messageField(NODE_ATTRIBUTE, attr);
    });
    return changed ? out : null;
  }

  /** The nodes replacing a Conv this module rewrites, or null to keep the node. */
  #conv(node: WireField[], dims: ReadonlyMap<string, number[]>, initializers: WireField[]): NewNode[] | null {
    const conv = readConv(node);
    if (!conv) return null;
    const [x, w, bias] = conv.inputs;
    const shape = w ? dims.get(w) : undefined;
    if (!x || !w || !shape || shape.length !== 3) return null;
    const [channelsOut, channelsIn, kernel] = shape as [number, number, number];
    const ints = (name: string, fallback: number[]): number[] | null => {
      const a = conv.attributes.get(name);
      return a ? repeatedInts(a, ATTR_INTS) : fallback;
    };
    const autoPad = conv.attributes.get("auto_pad")?.find((a) => a.field === ATTR_S);
    if (autoPad && asString(autoPad) !== "NOTSET") return null;
    const groupAttr = conv.attributes.get("group")?.find((a) => a.field === ATTR_I);
    const group = groupAttr ? asInt(groupAttr) : 1;
    const strides = ints("strides", [1]);
    const dilations = ints("dilations", [1]);
    const pads = ints("pads", [0, 0]);
    const kernelShape = ints("kernel_shape", [kernel]);
    if (!strides || !dilations || !pads || !kernelShape) return null;
    if (strides.length !== 1 || dilations.length !== 1 || pads.length !== 2) return null;
    if (kernelShape.length !== 1 || kernelShape[0] !== kernel || channelsIn !== 1) return null;
    const prefix = `conv1d_rewrite_${this.depthwise + this.framing}/`;
    const site: RewriteSite = {
      p: prefix,
      x,
      w,
      bias: bias && bias !== "" ? bias : null,
      y: conv.output,
      channels: channelsOut,
      kernel,
      c: constants(initializers, prefix),
    };
    if (group > 1 && group === channelsOut && strides[0] === 1) {
      this.depthwise++;
      return depthwiseNodes(site, dilations[0]!, pads);
    }
    const stride = strides[0]!;
    if (
      group === 1 &&
      stride > 1 &&
      kernel % stride === 0 &&
      pads[0] === 0 &&
      pads[1] === 0 &&
      dilations[0] === 1
    ) {
      this.framing++;
      return framingNodes(site, stride);
    }
    return null;
  }
}

function readConv(node: WireField[]): ConvNode | null {
  const opType = node.find((f) => f.field === NODE_OP_TYPE);
  if (!opType || asString(opType) !== "Conv") return null;
  const domain = node.find((f) => f.field === NODE_DOMAIN);
  if (domain && asString(domain) !== "" && asString(domain) !== "ai.onnx") return null;
  const outputs = node.filter((f) => f.field === NODE_OUTPUT).map(asString);
  if (outputs.length !== 1) return null;
  const attributes = new Map<string, WireField[]>();
  for (const f of node) {
    if (f.field !== NODE_ATTRIBUTE) continue;
    const attr = decodeMessage(asBytes(f));
    const name = attr.find((a) => a.field === ATTR_NAME);
    if (name) attributes.set(asString(name), attr);
  }
  return {
    inputs: node.filter((f) => f.field === NODE_INPUT).map(asString),
    output: outputs[0]!,
    attributes,
  };
}

/**
 * The int64 constants of one rewritten node, added to its graph's initializers once each: `c(name,
 * values, shape)` returns the initializer's name (shape defaults to a vector).
 */
function constants(initializers: WireField[], prefix: string): ConstantMaker {
  const made = new Set<string>();
  return (name, values, shape = [values.length]) => {
    const full = prefix + name;
    if (!made.has(full)) {
      made.add(full);
      int64Constant(initializers, full, values, shape);
    }
    return full;
  };
}

function int64Constant(initializers: WireField[], name: string, values: number[], shape: number[]): void {
  const raw = new Uint8Array(values.length * 8);
  const view = new DataView(raw.buffer);
  values.forEach((v, i) => view.setBigInt64(i * 8, BigInt(v), true));
  initializers.push(
    messageField(GRAPH_INITIALIZER, [
      ...(shape.length > 0 ? [packedInt64Field(TENSOR_DIMS, shape)] : []),
      varintField(TENSOR_DATA_TYPE, TENSOR_INT64),
      stringField(TENSOR_NAME, name),
      bytesField(TENSOR_RAW_DATA, raw),
    ]),
  );
}

/**
 * y[n, c, t] = b[c] + Σ_k w[c, 0, k] · xpad[n, c, t + k·d]: transpose to [N, T, C], pad the time axis,
 * gather the taps ([N, T, K, C]), multiply by the weights as [K, C], sum over the taps, transpose back.
 */
function depthwiseNodes(site: RewriteSite, dilation: number, pads: number[]): NewNode[] {
  const { p, x, w, bias, y, channels, kernel, c } = site;
  const taps = Array.from({ length: kernel }, (_, k) => k * dilation);
  const nodes: NewNode[] = [
    { op: "Transpose", inputs: [x], outputs: [p + "ntc"], ints: { perm: [0, 2, 1] } },
    { op: "Pad", inputs: [p + "ntc", c("pads", [0, pads[0]!, 0, 0, pads[1]!, 0])], outputs: [p + "padded"] },
    // Output frames: the padded length less the kernel's span, d·(K−1).
    { op: "Shape", inputs: [p + "padded"], outputs: [p + "shape"] },
    {
      op: "Gather",
      inputs: [p + "shape", c("time_axis", [1], [])],
      outputs: [p + "padded_frames"],
      int: { axis: 0 },
    },
    {
      op: "Sub",
      inputs: [p + "padded_frames", c("span", [dilation * (kernel - 1)], [])],
      outputs: [p + "frames"],
    },
    { op: "Range", inputs: [c("zero", [0], []), p + "frames", c("one", [1], [])], outputs: [p + "starts"] },
    { op: "Unsqueeze", inputs: [p + "starts", c("column", [1])], outputs: [p + "starts_column"] },
    { op: "Add", inputs: [p + "starts_column", c("taps", taps, [1, kernel])], outputs: [p + "indices"] },
    { op: "Gather", inputs: [p + "padded", p + "indices"], outputs: [p + "windows"], int: { axis: 1 } },
    { op: "Reshape", inputs: [w, c("weight_shape", [channels, kernel])], outputs: [p + "w_ck"] },
    { op: "Transpose", inputs: [p + "w_ck"], outputs: [p + "w_kc"], ints: { perm: [1, 0] } },
    { op: "Mul", inputs: [p + "windows", p + "w_kc"], outputs: [p + "products"] },
    {
      op: "ReduceSum",
      inputs: [p + "products", c("tap_axis", [2])],
      outputs: [bias ? p + "sum" : p + "out"],
      int: { keepdims: 0 },
    },
  ];
  if (bias) nodes.push({ op: "Add", inputs: [p + "sum", bias], outputs: [p + "out"] });
  nodes.push({ op: "Transpose", inputs: [p + "out"], outputs: [y], ints: { perm: [0, 2, 1] } });
  return nodes;
}

/**
 * Frame t of a kernel of J = K/s strides is blocks t … t+J−1 of the signal cut into stride-long blocks,
 * so y[n, :, t] = b + Σ_j block[n, t+j] · W_j, W_j the kernel's rows j·s … (j+1)·s−1 as [s, C_out]. The
 * signal is first cut to whole blocks, which leaves the number of frames as it was.
 */
function framingNodes(site: RewriteSite, stride: number): NewNode[] {
  const { p, x, w, bias, y, channels, kernel, c } = site;
  const blocks = kernel / stride;
  const nodes: NewNode[] = [
    { op: "Shape", inputs: [x], outputs: [p + "shape"] },
    {
      op: "Gather",
      inputs: [p + "shape", c("length_axis", [2], [])],
      outputs: [p + "length"],
      int: { axis: 0 },
    },
    { op: "Div", inputs: [p + "length", c("stride", [stride], [])], outputs: [p + "whole_blocks"] },
    { op: "Mul", inputs: [p + "whole_blocks", c("stride", [stride], [])], outputs: [p + "used"] },
    { op: "Unsqueeze", inputs: [p + "used", c("axis0", [0])], outputs: [p + "end"] },
    {
      op: "Slice",
      inputs: [x, c("from_start", [0]), p + "end", c("signal_axis", [2])],
      outputs: [p + "signal"],
    },
    { op: "Reshape", inputs: [p + "signal", c("block_shape", [0, -1, stride])], outputs: [p + "blocks"] },
    { op: "Reshape", inputs: [w, c("weight_shape", [channels, kernel])], outputs: [p + "w_ck"] },
    { op: "Transpose", inputs: [p + "w_ck"], outputs: [p + "w_kc"], ints: { perm: [1, 0] } },
  ];
  let sum = "";
  for (let j = 0; j < blocks; j++) {
    // Blocks j … j + frames − 1: up to blocks − 1 − j from the end.
    const end = j < blocks - 1 ? j - (blocks - 1) : Number.MAX_SAFE_INTEGER;
    nodes.push(
      {
        op: "Slice",
        inputs: [p + "blocks", c(`block_from_${j}`, [j]), c(`block_to_${j}`, [end]), c("block_axis", [1])],
        outputs: [p + `blocks_${j}`],
      },
      {
        op: "Slice",
        inputs: [
          p + "w_kc",
          c(`rows_from_${j}`, [j * stride]),
          c(`rows_to_${j}`, [(j + 1) * stride]),
          c("row_axis", [0]),
        ],
        outputs: [p + `w_${j}`],
      },
      { op: "MatMul", inputs: [p + `blocks_${j}`, p + `w_${j}`], outputs: [p + `product_${j}`] },
    );
    if (j > 0) nodes.push({ op: "Add", inputs: [sum, p + `product_${j}`], outputs: [p + `sum_${j}`] });
    sum = j > 0 ? p + `sum_${j}` : p + `product_${j}`;
  }
  if (bias) {
    nodes.push({ op: "Add", inputs: [sum, bias], outputs: [p + "biased"] });
    sum = p + "biased";
  }
  nodes.push({ op: "Transpose", inputs: [sum], outputs: [y], ints: { perm: [0, 2, 1] } });
  return nodes;
}

export function encodeNode(n: NewNode): WireField[] {
  const fields: WireField[] = [
    ...n.inputs.map((i) => stringField(NODE_INPUT, i)),
    ...n.outputs.map((o) => stringField(NODE_OUTPUT, o)),
    stringField(NODE_NAME, n.outputs[0]!),
    stringField(NODE_OP_TYPE, n.op),
  ];
  for (const [name, values] of Object.entries(n.ints ?? {}))
    fields.push(
      messageField(NODE_ATTRIBUTE, [
        stringField(ATTR_NAME, name),
        packedInt64Field(ATTR_INTS, values),
        varintField(ATTR_TYPE, ATTR_TYPE_INTS),
      ]),
    );
  for (const [name, value] of Object.entries(n.int ?? {}))
    fields.push(
      messageField(NODE_ATTRIBUTE, [
        stringField(ATTR_NAME, name),
        varintField(ATTR_I, value),
        varintField(ATTR_TYPE, ATTR_TYPE_INT),
      ]),
    );
  return fields;
}
