/**
 * The protobuf wire format, as much of it as ONNX files use: a message is a list of fields, each a
 * varint (kept as an unsigned 64-bit bigint), a fixed 64- or 32-bit value or a length-delimited payload
 * (kept as the original bytes). Decoding and encoding an untouched message gives back the same bytes, so
 * a model can be edited in a few places and everything else passes through as it was.
 */

export const WIRE_VARINT = 0;
export const WIRE_I64 = 1;
export const WIRE_LEN = 2;
export const WIRE_I32 = 5;

export type WireType = typeof WIRE_VARINT | typeof WIRE_I64 | typeof WIRE_LEN | typeof WIRE_I32;

export interface WireField {
  field: number;
  wire: WireType;
  /** A varint as an unsigned 64-bit value; the raw bytes of the other wire types. */
  value: bigint | Uint8Array;
}

export class OnnxParseError extends Error {
  override readonly name = "OnnxParseError";
}

const MAX_U64 = (1n << 64n) - 1n;

export function decodeMessage(bytes: Uint8Array): WireField[] {
  const fields: WireField[] = [];
  const reader = new ProtoReader(bytes, 0, bytes.length);
  while (!reader.done()) {
    const { field, wire } = reader.tag();
    switch (wire) {
      case WIRE_VARINT:
        fields.push({ field, wire, value: reader.bigVarint() });
        break;
      case WIRE_I64:
      case WIRE_I32:
      case WIRE_LEN: {
        const [start, end] = reader.payload(wire);
        fields.push({ field, wire, value: bytes.subarray(start, end) });
        break;
      }
      default:
        throw new OnnxParseError(`protobuf wire type ${wire} is not used by ONNX: not an ONNX model file`);
    }
  }
  return fields;
}

export function encodeMessage(fields: readonly WireField[]): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const f of fields) {
    parts.push(varintBytes(BigInt(f.field * 8 + f.wire)));
    if (f.wire === WIRE_VARINT) {
      if (typeof f.value !== "bigint") throw new TypeError(`field ${f.field}: a varint needs a bigint`);
      parts.push(varintBytes(f.value));
      continue;
    }
    if (!(f.value instanceof Uint8Array))
      throw new TypeError(`field ${f.field}: wire type ${f.wire} needs bytes`);
    const expected = f.wire === WIRE_I64 ? 8 : f.wire === WIRE_I32 ? 4 : -1;
    if (expected >= 0 && f.value.length !== expected)
      throw new RangeError(
        `field ${f.field}: wire type ${f.wire} holds ${expected} bytes, not ${f.value.length}`,
      );
    if (f.wire === WIRE_LEN) parts.push(varintBytes(BigInt(f.value.length)));
    parts.push(f.value);
  }
  return concat(parts);
}

/** A varint field from a (possibly negative) integer, as protobuf writes int64. */
export function varintField(field: number, value: number | bigint): WireField {
  return { field, wire: WIRE_VARINT, value: BigInt.asUintN(64, BigInt(value)) };
}

export function bytesField(field: number, value: Uint8Array): WireField {
  return { field, wire: WIRE_LEN, value };
}

export function stringField(field: number, value: string): WireField {
  return bytesField(field, new TextEncoder().encode(value));
}

export function messageField(field: number, fields: readonly WireField[]): WireField {
  return bytesField(field, encodeMessage(fields));
}

/** The packed form of a repeated int64 field. */
export function packedInt64Field(field: number, values: readonly number[]): WireField {
  return bytesField(field, concat(values.map((v) => varintBytes(BigInt.asUintN(64, BigInt(v))))));
}

export function asString(f: WireField): string {
  if (!(f.value instanceof Uint8Array)) throw new OnnxParseError(`field ${f.field} is not a string`);
  return new TextDecoder().decode(f.value);
}

export function asBytes(f: WireField): Uint8Array {
  if (!(f.value instanceof Uint8Array)) throw new OnnxParseError(`field ${f.field} is not a message`);
  return f.value;
}

/** A varint as a signed int64 in number range. */
export function asInt(f: WireField): number {
  if (typeof f.value !== "bigint") throw new OnnxParseError(`field ${f.field} is not a varint`);
  return Number(BigInt.asIntN(64, f.value));
}

/** Every value of a repeated int64 field, packed or not. */
export function repeatedInts(fields: readonly WireField[], field: number): number[] {
  const values: number[] = [];
  for (const f of fields) {
    if (f.field !== field) continue;
    if (f.wire === WIRE_VARINT) values.push(asInt(f));
    else if (f.wire === WIRE_LEN) {
      const bytes = asBytes(f);
      const reader = new ProtoReader(bytes, 0, bytes.length);
      while (!reader.done()) values.push(Number(BigInt.asIntN(64, reader.bigVarint())));
    } else throw new OnnxParseError(`field ${field} is not a repeated integer`);
  }
  return values;
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

function varintBytes(value: bigint): Uint8Array {
  if (value < 0n || value > MAX_U64) throw new RangeError(`varint ${value} is outside 0..2^64-1`);
  const out: number[] = [];
  let v = value;
  while (v >= 0x80n) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
  return Uint8Array.from(out);
}

export class ProtoReader {
  readonly #bytes: Uint8Array;
  #pos: number;
  readonly #end: number;

  constructor(bytes: Uint8Array, start: number, end: number) {
    this.#bytes = bytes;
    this.#pos = start;
    this.#end = end;
  }

  done(): boolean {
    return this.#pos >= this.#end;
  }

  tag(): { field: number; wire: number } {
    const value = this.varint();
    return { field: Math.floor(value / 8), wire: value % 8 };
  }

  /** Varints up to 2^53 are enough for tags and lengths of files this process can hold. */
  varint(): number {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (this.#pos >= this.#end) throw new OnnxParseError("truncated varint: not an ONNX model file");
      const byte = this.#bytes[this.#pos++]!;
      result += (byte & 0x7f) * scale;
      if ((byte & 0x80) === 0) return result;
      scale *= 128;
    }
    throw new OnnxParseError("varint longer than 10 bytes: not an ONNX model file");
  }

  bigVarint(): bigint {
    let result = 0n;
    for (let i = 0n; i < 10n; i++) {
      if (this.#pos >= this.#end) throw new OnnxParseError("truncated varint: not an ONNX model file");
      const byte = this.#bytes[this.#pos++]!;
      result |= BigInt(byte & 0x7f) << (7n * i);
      if ((byte & 0x80) === 0) return result & MAX_U64;
    }
    throw new OnnxParseError("varint longer than 10 bytes: not an ONNX model file");
  }

  /** Start and end of the payload of a fixed-size or length-delimited field. */
  payload(wire: number): [number, number] {
    const length = wire === WIRE_I64 ? 8 : wire === WIRE_I32 ? 4 : this.varint();
    const start = this.#pos;
    if (start + length > this.#end)
      throw new OnnxParseError("field runs past the end: not an ONNX model file");
    this.#pos += length;
    return [start, start + length];
  }

  skip(wire: number): void {
    switch (wire) {
      case WIRE_VARINT:
        this.varint();
        return;
      case WIRE_I64:
      case WIRE_I32:
      case WIRE_LEN:
        this.payload(wire);
        return;
      default:
        throw new OnnxParseError(`protobuf wire type ${wire} is not used by ONNX: not an ONNX model file`);
    }
  }
}
