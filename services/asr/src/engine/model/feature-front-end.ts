/**
 * The log-mel features as operators at the front of a model's graph, so that a pass takes audio and
 * onnxruntime computes its features with the same kernels as the network: on the CPU as matrix products
 * of all frames of the batch at once (a pass of 32 windows ran about a sixth faster than with the features
 * computed in TypeScript before it, bench/asr/features-placement.ts), on a GPU beside the network.
 *
 * Everything before the power spectrum is linear in the frame's samples (the sample scale, DC removal,
 * pre-emphasis and the window), and so is the DFT, so the whole way from a frame's samples to the real and
 * imaginary parts of its spectrum is one matrix, applied to every frame by a strided convolution:
 *
 *   samples [N, 1, S] ─Conv(re), Conv(im), stride = frame shift→ [N, K, T] each ─re² + im²→ power [N, K, T]
 *   ─MatMul(mel [dim, K])→ [N, dim, T] ─Max(log floor), Log→ ─Mul(frame mask [N, 1, T])→ the feature input
 *
 * with K = nFft/2 + 1 bins and T = (S − frameLength)/frameShift + 1 frames: item n's frames read its samples
 * end to end, as FeatureStream.copyFrameSamples gives them. The frame mask zeroes the frames past an
 * item's valid ones, as the batcher pads a window. The matrices are computed in double precision and
 * stored as float32; the products run in float32, within 1e-4 of the extractor (tests and a check at load).
 */
import {
  asBytes,
  asString,
  bytesField,
  decodeMessage,
  encodeMessage,
  messageField,
  packedInt64Field,
  stringField,
  varintField,
  WIRE_LEN,
  type WireField,
} from "./protobuf-wire.ts";
import {
  MODEL_IR_VERSION,
  MODEL_GRAPH,
  MODEL_OPSET_IMPORT,
  OPSET_VERSION,
  GRAPH_NODE,
  GRAPH_NAME,
  GRAPH_INITIALIZER,
  GRAPH_INPUT,
  GRAPH_OUTPUT,
  NODE_INPUT,
  NODE_OUTPUT,
  VALUE_NAME,
  VALUE_TYPE,
  TYPE_TENSOR,
  TENSOR_TYPE_ELEM,
  TENSOR_TYPE_SHAPE,
  SHAPE_DIM,
  DIM_VALUE,
  DIM_PARAM,
  TENSOR_DIMS,
  TENSOR_DATA_TYPE,
  TENSOR_NAME,
  TENSOR_RAW_DATA,
  TENSOR_FLOAT,
} from "./onnx-fields.ts";
import { defaultOpset, encodeNode, type NewNode } from "./conv1d-rewrite.ts";
import { melBankFor, windowFunction, type FbankConfig } from "../features/fbank.ts";

/** The inputs a model with the front end takes in place of its feature input. */
export const SAMPLES_INPUT = "frontend_samples";
export const FRAME_MASK_INPUT = "frontend_frame_mask";

/** Max with a broadcast operand (the log floor) needs opset 8. */
const MIN_OPSET = 8;

/** The front end's constants: spectrum rows [K, frameLength] (real, imaginary) and the mel filters [dim, K]. */
export interface FrontEndWeights {
  real: Float32Array;
  imaginary: Float32Array;
  mel: Float32Array;
  bins: number;
}

/**
 * Column j of the frame-to-spectrum matrix is the spectrum of the frame whose only sample is j: the
 * extractor's steps (scale, DC removal, pre-emphasis with y[0] = x[0] − p·x[0], window) applied to it,
 * then the DFT of the frame zero-padded to nFft.
 */
export function frontEndWeights(config: FbankConfig): FrontEndWeights {
  const { frameLength, nFft, preemphasis, removeDcOffset, sampleScale, dim } = config;
  const bins = nFft / 2 + 1;
  const window = windowFunction(config);
  const cos = Float64Array.from({ length: nFft }, (_, i) => Math.cos((2 * Math.PI * i) / nFft));
  const sin = Float64Array.from({ length: nFft }, (_, i) => Math.sin((2 * Math.PI * i) / nFft));
  const real = new Float32Array(bins * frameLength);
  const imaginary = new Float32Array(bins * frameLength);
  const frame = new Float64Array(frameLength);
  for (let j = 0; j < frameLength; j++) {
    frame.fill(removeDcOffset ? -sampleScale / frameLength : 0);
    frame[j] = frame[j]! + sampleScale;
    for (let i = frameLength - 1; i > 0; i--)
      frame[i] = (frame[i]! - preemphasis * frame[i - 1]!) * window[i]!;
    frame[0] = (frame[0]! - preemphasis * frame[0]!) * window[0]!;
    for (let k = 0; k < bins; k++) {
      let re = 0;
      let im = 0;
      for (let i = 0; i < frameLength; i++) {
        const phase = (i * k) % nFft;
        re += frame[i]! * cos[phase]!;
        im -= frame[i]! * sin[phase]!;
      }
      real[k * frameLength + j] = re;
      imaginary[k * frameLength + j] = im;
    }
  }
  const bank = melBankFor(config);
  const mel = new Float32Array(dim * bins);
  bank.weights.forEach((weights, b) => weights.forEach((w, j) => (mel[b * bins + bank.first[b]! + j] = w)));
  return { real, imaginary, mel, bins };
}

/** The front end's nodes and constants, writing the features to `output`. */
function frontEnd(
  config: FbankConfig,
  output: string,
  prefix: string,
): { nodes: WireField[]; initializers: WireField[] } {
  const weights = frontEndWeights(config);
  const { frameLength, frameShift, dim, logFloor } = config;
  const p = prefix;
  const initializers = [
    floatTensor(p + "spectrum_real", [weights.bins, 1, frameLength], weights.real),
    floatTensor(p + "spectrum_imaginary", [weights.bins, 1, frameLength], weights.imaginary),
    floatTensor(p + "mel", [dim, weights.bins], weights.mel),
    floatTensor(p + "log_floor", [1], Float32Array.of(logFloor)),
  ];
  const nodes: NewNode[] = [
    {
      op: "Conv",
      inputs: [SAMPLES_INPUT, p + "spectrum_real"],
      outputs: [p + "real"],
      ints: { strides: [frameShift] },
    },
    {
      op: "Conv",
      inputs: [SAMPLES_INPUT, p + "spectrum_imaginary"],
      outputs: [p + "imaginary"],
      ints: { strides: [frameShift] },
    },
    { op: "Mul", inputs: [p + "real", p + "real"], outputs: [p + "real_squared"] },
    { op: "Mul", inputs: [p + "imaginary", p + "imaginary"], outputs: [p + "imaginary_squared"] },
    { op: "Add", inputs: [p + "real_squared", p + "imaginary_squared"], outputs: [p + "power"] },
    { op: "MatMul", inputs: [p + "mel", p + "power"], outputs: [p + "mel_energy"] },
    { op: "Max", inputs: [p + "mel_energy", p + "log_floor"], outputs: [p + "floored"] },
    { op: "Log", inputs: [p + "floored"], outputs: [p + "log_mel"] },
    { op: "Mul", inputs: [p + "log_mel", FRAME_MASK_INPUT], outputs: [output] },
  ];
  return { nodes: nodes.map((n) => messageField(GRAPH_NODE, encodeNode(n))), initializers };
}

/**
 * The model with the front end in place of its feature input `featureInput` ([N, dim, T]); null when it
 * cannot take one: no such graph input, names the front end would reuse, or an opset older than 8.
 */
export function withFeatureFrontEnd(
  model: Uint8Array,
  featureInput: string,
  config: FbankConfig,
): Uint8Array | null {
  const fields = decodeMessage(model);
  if (defaultOpset(fields) < MIN_OPSET) return null;
  const graphField = fields.find((f) => f.field === MODEL_GRAPH && f.wire === WIRE_LEN);
  if (!graphField) return null;
  const graph = decodeMessage(asBytes(graphField));
  const prefix = "frontend/";
  const names = graphNames(graph);
  if (!graph.some((f) => f.field === GRAPH_INPUT && valueName(f) === featureInput)) return null;
  if ([...names].some((n) => n.startsWith(prefix) || n === SAMPLES_INPUT || n === FRAME_MASK_INPUT))
    return null;
  const front = frontEnd(config, featureInput, prefix);
  const rebuilt = [
    ...front.nodes,
    ...graph.filter((f) => !(f.field === GRAPH_INPUT && valueName(f) === featureInput)),
    ...front.initializers,
    ...frontEndInputs(),
  ];
  return encodeMessage(fields.map((f) => (f === graphField ? messageField(MODEL_GRAPH, rebuilt) : f)));
}

/** A model of the front end alone: samples and frame mask in, the features [N, dim, T] out ("features"). */
export function featureFrontEndModel(config: FbankConfig): Uint8Array {
  const front = frontEnd(config, "features", "frontend/");
  const graph = [
    ...front.nodes,
    stringField(GRAPH_NAME, "feature_front_end"),
    ...front.initializers,
    ...frontEndInputs(),
    messageField(GRAPH_OUTPUT, valueInfo("features", ["N", config.dim, "T"])),
  ];
  return encodeMessage([
    varintField(MODEL_IR_VERSION, 8n),
    messageField(MODEL_OPSET_IMPORT, [varintField(OPSET_VERSION, 13n)]),
    messageField(MODEL_GRAPH, graph),
  ]);
}

function frontEndInputs(): WireField[] {
  return [
    messageField(GRAPH_INPUT, valueInfo(SAMPLES_INPUT, ["N", 1, "S"])),
    messageField(GRAPH_INPUT, valueInfo(FRAME_MASK_INPUT, ["N", 1, "T"])),
  ];
}

function valueInfo(name: string, dims: ReadonlyArray<number | string>): WireField[] {
  const shape = dims.map((d) =>
    messageField(SHAPE_DIM, [
      typeof d === "number" ? varintField(DIM_VALUE, BigInt(d)) : stringField(DIM_PARAM, d),
    ]),
  );
  return [
    stringField(VALUE_NAME, name),
    messageField(VALUE_TYPE, [
      messageField(TYPE_TENSOR, [
        varintField(TENSOR_TYPE_ELEM, BigInt(TENSOR_FLOAT)),
        messageField(TENSOR_TYPE_SHAPE, shape),
      ]),
    ]),
  ];
}

function floatTensor(name: string, dims: number[], data: Float32Array): WireField {
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return messageField(GRAPH_INITIALIZER, [
    packedInt64Field(TENSOR_DIMS, dims),
    varintField(TENSOR_DATA_TYPE, BigInt(TENSOR_FLOAT)),
    stringField(TENSOR_NAME, name),
    bytesField(TENSOR_RAW_DATA, bytes),
  ]);
}

function valueName(f: WireField): string {
  const name = decodeMessage(asBytes(f)).find((v) => v.field === VALUE_NAME);
  return name ? asString(name) : "";
}

/** Every value name the graph uses: its inputs, outputs, initializers and node outputs. */
function graphNames(graph: readonly WireField[]): Set<string> {
  const names = new Set<string>();
  for (const f of graph) {
    if (f.field === GRAPH_INPUT || f.field === GRAPH_OUTPUT) names.add(valueName(f));
    else if (f.field === GRAPH_INITIALIZER) {
      const name = decodeMessage(asBytes(f)).find((t) => t.field === TENSOR_NAME);
      if (name) names.add(asString(name));
    } else if (f.field === GRAPH_NODE) {
      for (const n of decodeMessage(asBytes(f)))
        if (n.field === NODE_INPUT || n.field === NODE_OUTPUT) names.add(asString(n));
    }
  }
  return names;
}
