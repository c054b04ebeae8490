import { describe, expect, it } from "vitest";
import { FixedShapeError, withFixedInputShapes } from "./fixed-shapes.ts";
import { encodeMessage, messageField, stringField, varintField } from "./protobuf-wire.ts";
import { ort } from "@callscribe/onnx";

const FLOAT = 1n;
const INT64 = 7n;

/** A ValueInfoProto of a tensor of `type` with these dimensions (a string is a named one). */
function value(name: string, type: bigint, dims: Array<number | string>) {
  return [
    stringField(1, name),
    messageField(2, [
      messageField(1, [
        varintField(1, type),
        messageField(
          2,
          dims.map((d) =>
            messageField(1, [typeof d === "number" ? varintField(1, BigInt(d)) : stringField(2, d)]),
          ),
        ),
      ]),
    ]),
  ];
}

function node(op: string, input: string, output: string) {
  return messageField(1, [
    stringField(1, input),
    stringField(2, output),
    stringField(3, `${op} of ${input}`),
    stringField(4, op),
  ]);
}

/**
 * A model with inputs "x" [N, 4, T] and "lengths" [N]: passes x through as "y" and gives its shape as
 * "shape" (a Shape node, which onnxruntime folds into a constant when the shape is known at load).
 */
function shapeModel(): Uint8Array {
  const graph = [
    node("Identity", "x", "y"),
    node("Shape", "x", "shape"),
    node("Identity", "lengths", "lengths_out"),
    stringField(2, "shape_model"),
    messageField(11, value("x", FLOAT, ["N", 4, "T"])),
    messageField(11, value("lengths", INT64, ["N"])),
    messageField(12, value("y", FLOAT, ["N", 4, "T"])),
    messageField(12, value("shape", INT64, [3])),
    messageField(12, value("lengths_out", INT64, ["N"])),
  ];
  return encodeMessage([varintField(1, 8n), messageField(8, [varintField(2, 13n)]), messageField(7, graph)]);
}

function feeds(batch: number, frames: number) {
  return {
    x: new ort.Tensor("float32", new Float32Array(batch * 4 * frames).fill(1), [batch, 4, frames]),
    lengths: new ort.Tensor("int64", new BigInt64Array(batch).fill(BigInt(frames)), [batch]),
  };
}

describe("withFixedInputShapes", () => {
  it("declares each graph input with the shape given, and the graph runs with it alone", async () => {
    const fixed = withFixedInputShapes(shapeModel(), { x: [1, 4, 24], lengths: [1] });
    const session = await ort.InferenceSession.create(fixed, { logSeverityLevel: 3 });
    try {
      const shapes = Object.fromEntries(
        session.inputMetadata.map((m) => [m.name, m.isTensor ? m.shape : null]),
      );
      expect(shapes).toEqual({ x: [1, 4, 24], lengths: [1] });
      const out = await session.run(feeds(1, 24));
      expect(Array.from(out.shape!.data as BigInt64Array)).toEqual([1n, 4n, 24n]);
      expect(out.y!.dims).toEqual([1, 4, 24]);
      // Any other shape is refused.
      await expect(session.run(feeds(1, 26))).rejects.toThrow();
      await expect(session.run(feeds(2, 24))).rejects.toThrow();
    } finally {
      await session.release();
    }
  });

  it.each([
    [{ x: [1, 4, 24] }, /no shape given for graph input lengths/],
    [{ x: [1, 4, 24], lengths: [1], states: [1, 8] }, /the graph has no input states/],
    [{ x: [1, 24], lengths: [1] }, /graph input x has rank 3, not 2/],
    [{ x: [1, 80, 24], lengths: [1] }, /graph input x fixes dimension 1 at 4, not 80/],
  ] as Array<[Record<string, number[]>, RegExp]>)(
    "refuses shapes that do not fit the graph: %j",
    (shapes, message) => {
      expect(() => withFixedInputShapes(shapeModel(), shapes)).toThrow(FixedShapeError);
      expect(() => withFixedInputShapes(shapeModel(), shapes)).toThrow(message);
    },
  );
});
