import { describe, expect, it } from "vitest";
import { OnnxParseError, readOnnxMetadata } from "./onnx-metadata.ts";

function varint(n: number): number[] {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n % 128) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
}
const field = (number: number, wire: number): number[] => varint(number * 8 + wire);
const bytes = (number: number, payload: number[]): number[] => [
  ...field(number, 2),
  ...varint(payload.length),
  ...payload,
];
const text = (s: string): number[] => [...new TextEncoder().encode(s)];
const entry = (key: string, value: string): number[] =>
  bytes(14, [...bytes(1, text(key)), ...bytes(2, text(value))]);

describe("readOnnxMetadata", () => {
  it("reads metadata_props and skips the graph and other fields", () => {
    const graph = new Array<number>(300).fill(7);
    const model = Uint8Array.from([
      ...field(1, 0),
      ...varint(8), // ir_version
      ...bytes(2, text("pytorch")),
      ...bytes(7, graph),
      ...field(5, 0),
      ...varint(2 ** 40), // a large model_version varint
      ...entry("vocab_size", "29"),
      ...entry("subsampling_factor", "2"),
      ...entry("normalize_type", ""),
    ]);
    expect(Object.fromEntries(readOnnxMetadata(model))).toEqual({
      vocab_size: "29",
      subsampling_factor: "2",
      normalize_type: "",
    });
  });

  it("refuses bytes that are not a protobuf", () => {
    expect(() => readOnnxMetadata(Uint8Array.from([...field(7, 2), ...varint(100), 1, 2, 3]))).toThrow(
      OnnxParseError,
    );
    expect(() => readOnnxMetadata(new TextEncoder().encode("not onnx at all\n"))).toThrow(OnnxParseError);
  });
});
