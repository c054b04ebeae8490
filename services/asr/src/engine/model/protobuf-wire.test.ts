import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { sileroModelPath } from "../vad/silero.ts";
import {
  asInt,
  decodeMessage,
  encodeMessage,
  OnnxParseError,
  packedInt64Field,
  repeatedInts,
  varintField,
} from "./protobuf-wire.ts";

const modelFile = (name: string): string =>
  fileURLToPath(new URL(`../../../../../models/asr-en-telephony/${name}`, import.meta.url));

describe("protobuf wire format", () => {
  it("decodes and re-encodes ONNX models to the same bytes", () => {
    for (const path of [sileroModelPath(), modelFile("model.streaming.int8.onnx"), modelFile("model.onnx")]) {
      const bytes = new Uint8Array(readFileSync(path));
      expect(Buffer.compare(encodeMessage(decodeMessage(bytes)), bytes)).toBe(0);
    }
  });

  it("writes negative int64 varints in ten bytes and reads them back", () => {
    const encoded = encodeMessage([varintField(3, -2), varintField(4, 2 ** 40)]);
    expect(encoded.length).toBe(1 + 10 + 1 + 6);
    const [a, b] = decodeMessage(encoded);
    expect([asInt(a!), asInt(b!)]).toEqual([-2, 2 ** 40]);
  });

  it("reads repeated integers packed and unpacked", () => {
    const fields = decodeMessage(
      encodeMessage([packedInt64Field(8, [1, -1, 300]), varintField(8, 7), varintField(9, 5)]),
    );
    expect(repeatedInts(fields, 8)).toEqual([1, -1, 300, 7]);
  });

  it("refuses bytes that are not a protobuf", () => {
    expect(() => decodeMessage(Uint8Array.of(0x3a, 100, 1, 2))).toThrow(OnnxParseError);
    expect(() => decodeMessage(Uint8Array.of(0x0b))).toThrow(/wire type 3/);
  });
});
