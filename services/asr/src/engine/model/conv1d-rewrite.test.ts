import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import * as ort from "onnxruntime-node";
import { describe, expect, it } from "vitest";
import { sileroModelPath } from "../vad/silero.ts";
import { rewriteConv1d } from "./conv1d-rewrite.ts";
import {
  asBytes,
  asString,
  bytesField,
  decodeMessage,
  encodeMessage,
  messageField,
  packedInt64Field,
  repeatedInts,
  stringField,
  varintField,
  type WireField,
} from "./protobuf-wire.ts";

interface ConvSpec {
  channelsIn: number;
  channelsOut: number;
  kernel: number;
  group: number;
  strides?: number[];
  dilations?: number[];
  pads?: number[];
  bias: boolean;
  opset?: number;
}

/** A one-Conv ONNX model: X [N, channelsIn, T] → Y, weights and bias as initializers. */
function convModel(spec: ConvSpec, seed = 1): Uint8Array {
  let state = seed;
  const random = (): number => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state / 2 ** 31 - 0.5;
  };
  const floats = (name: string, dims: number[]): WireField => {
    const values = new Float32Array(dims.reduce((a, b) => a * b, 1)).map(random);
    return messageField(5, [
      packedInt64Field(1, dims),
      varintField(2, 1),
      stringField(8, name),
      bytesField(9, new Uint8Array(values.buffer)),
    ]);
  };
  const floatValue = (name: string): WireField =>
    messageField(11, [stringField(1, name), messageField(2, [messageField(1, [varintField(1, 1)])])]);
  const attr = (name: string, ints: number[]): WireField =>
    messageField(5, [stringField(1, name), packedInt64Field(8, ints), varintField(20, 7)]);
  const inputs = ["X", "W", ...(spec.bias ? ["B"] : [])];
  const conv = messageField(1, [
    ...inputs.map((i) => stringField(1, i)),
    stringField(2, "Y"),
    stringField(3, "conv"),
    stringField(4, "Conv"),
    messageField(5, [stringField(1, "group"), varintField(3, spec.group), varintField(20, 2)]),
    attr("kernel_shape", [spec.kernel]),
    ...(spec.strides ? [attr("strides", spec.strides)] : []),
    ...(spec.dilations ? [attr("dilations", spec.dilations)] : []),
    ...(spec.pads ? [attr("pads", spec.pads)] : []),
  ]);
  const graph = [
    conv,
    stringField(2, "one_conv"),
    floats("W", [spec.channelsOut, spec.channelsIn / spec.group, spec.kernel]),
    ...(spec.bias ? [floats("B", [spec.channelsOut])] : []),
    floatValue("X"),
    { ...floatValue("Y"), field: 12 },
  ];
  return encodeMessage([
    varintField(1, 8),
    messageField(7, graph),
    messageField(8, [stringField(1, ""), varintField(2, spec.opset ?? 13)]),
  ]);
}

async function maxDifference(a: Uint8Array, b: Uint8Array, dims: number[]): Promise<number> {
  const x = new Float32Array(dims.reduce((p, q) => p * q, 1)).map((_, i) => Math.sin(i * 0.37) * 2);
  const run = async (model: Uint8Array): Promise<Float32Array> => {
    const session = await ort.InferenceSession.create(model, { logSeverityLevel: 3 });
    try {
      const out = await session.run({ X: new ort.Tensor("float32", x, dims) });
      return out.Y!.data as Float32Array;
    } finally {
      await session.release();
    }
  };
  const [ya, yb] = [await run(a), await run(b)];
  expect(yb.length).toBe(ya.length);
  return ya.reduce((m, v, i) => Math.max(m, Math.abs(v - yb[i]!)), 0);
}

/** Every Conv node, subgraphs included, with its group and stride. */
function convs(model: Uint8Array): Array<{ group: number; stride: number }> {
  const found: Array<{ group: number; stride: number }> = [];
  const walk = (graph: Uint8Array): void => {
    for (const f of decodeMessage(graph)) {
      if (f.field !== 1) continue;
      const node = decodeMessage(asBytes(f));
      let group = 1;
      let stride = 1;
      for (const a of node.filter((n) => n.field === 5).map((n) => decodeMessage(asBytes(n)))) {
        const name = asString(a.find((x) => x.field === 1)!);
        if (name === "group") group = Number(a.find((x) => x.field === 3)!.value);
        if (name === "strides") stride = repeatedInts(a, 8)[0]!;
        for (const g of a.filter((x) => x.field === 6)) walk(asBytes(g));
      }
      if (asString(node.find((n) => n.field === 4)!) === "Conv") found.push({ group, stride });
    }
  };
  walk(asBytes(decodeMessage(model).find((f) => f.field === 7)!));
  return found;
}

describe("rewriteConv1d", () => {
  it("rewrites a depthwise convolution (any padding, dilation, bias) to the same results", async () => {
    for (const spec of [
      { channelsIn: 6, channelsOut: 6, kernel: 5, group: 6, dilations: [2], pads: [8, 0], bias: true },
      { channelsIn: 9, channelsOut: 9, kernel: 3, group: 9, pads: [1, 1], bias: false },
      // No padding (the output is shorter than the input) and uneven padding.
      { channelsIn: 5, channelsOut: 5, kernel: 5, group: 5, dilations: [2], bias: true },
      { channelsIn: 4, channelsOut: 4, kernel: 7, group: 4, pads: [1, 4], bias: false },
    ]) {
      const model = convModel(spec);
      const rewritten = rewriteConv1d(model);
      expect(rewritten).toMatchObject({ depthwise: 1, framing: 0 });
      expect(convs(rewritten.model)).toEqual([]);
      expect(await maxDifference(model, rewritten.model, [3, spec.channelsIn, 17])).toBeLessThan(1e-5);
    }
  });

  it("rewrites a strided single-channel convolution, cutting a signal that is not whole strides", async () => {
    const spec = { channelsIn: 1, channelsOut: 10, kernel: 16, group: 1, strides: [4], bias: true };
    const model = convModel(spec);
    const rewritten = rewriteConv1d(model);
    expect(rewritten).toMatchObject({ depthwise: 0, framing: 1 });
    expect(convs(rewritten.model)).toEqual([]);
    for (const length of [16, 43, 64])
      expect(await maxDifference(model, rewritten.model, [2, 1, length])).toBeLessThan(1e-5);
  });

  it("leaves other convolutions, and models before opset 13, byte for byte as they were", () => {
    for (const spec of [
      { channelsIn: 4, channelsOut: 4, kernel: 3, group: 4, strides: [2], bias: false },
      { channelsIn: 4, channelsOut: 8, kernel: 3, group: 1, bias: true },
      { channelsIn: 1, channelsOut: 8, kernel: 6, group: 1, strides: [4], bias: false },
      { channelsIn: 6, channelsOut: 6, kernel: 5, group: 6, bias: false, opset: 12 },
    ]) {
      const model = convModel(spec);
      const result = rewriteConv1d(model);
      expect(result).toMatchObject({ depthwise: 0, framing: 0 });
      expect(result.model).toBe(model);
    }
  });

  it("rewrites Silero v4's depthwise and STFT convolutions in both sample-rate branches", () => {
    const silero = new Uint8Array(readFileSync(sileroModelPath()));
    const before = convs(silero);
    expect(before.filter((c) => c.group > 1)).toHaveLength(8);
    const result = rewriteConv1d(silero);
    expect(result).toMatchObject({ depthwise: 8, framing: 2 });
    const after = convs(result.model);
    expect(after.filter((c) => c.group > 1)).toEqual([]);
    // The two STFT convolutions are gone; the stride-2 pointwise ones stay.
    expect(after.filter((c) => c.stride > 1)).toHaveLength(before.filter((c) => c.stride > 1).length - 2);
    expect(after).toHaveLength(before.length - 10);
  });

  it("leaves the project's cache-aware streaming graph (no convolutions) as it was", () => {
    const file = fileURLToPath(
      new URL("../../../../../models/asr-en-telephony/model.streaming.onnx", import.meta.url),
    );
    const model = new Uint8Array(readFileSync(file));
    expect(rewriteConv1d(model).model).toBe(model);
  });
});
