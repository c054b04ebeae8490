/**
 * Reads `metadata_props` (vocab_size, subsampling_factor, normalize_type …) from an ONNX file.
 * onnxruntime-node does not expose a model's custom metadata, so the top level of the ModelProto
 * protobuf is walked here; the graph (field 7) is skipped by its length without being parsed.
 */

const METADATA_PROPS_FIELD = 14;
const KEY_FIELD = 1;
const VALUE_FIELD = 2;

const WIRE_VARINT = 0;
const WIRE_I64 = 1;
const WIRE_LEN = 2;
const WIRE_I32 = 5;

export class OnnxParseError extends Error {
  override readonly name = "OnnxParseError";
}

export function readOnnxMetadata(bytes: Uint8Array): Map<string, string> {
  const props = new Map<string, string>();
  const reader = new ProtoReader(bytes, 0, bytes.length);
  while (!reader.done()) {
    const { field, wire } = reader.tag();
    if (field === METADATA_PROPS_FIELD && wire === WIRE_LEN) {
      const [start, end] = reader.lengthDelimited();
      const entry = new ProtoReader(bytes, start, end);
      let key = "";
      let value = "";
      while (!entry.done()) {
        const t = entry.tag();
        if (t.wire === WIRE_LEN && (t.field === KEY_FIELD || t.field === VALUE_FIELD)) {
          const [s, e] = entry.lengthDelimited();
          const text = new TextDecoder().decode(bytes.subarray(s, e));
          if (t.field === KEY_FIELD) key = text;
          else value = text;
        } else entry.skip(t.wire);
      }
      props.set(key, value);
    } else reader.skip(wire);
  }
  return props;
}

class ProtoReader {
  constructor(
    private readonly bytes: Uint8Array,
    private pos: number,
    private readonly end: number,
  ) {}

  done(): boolean {
    return this.pos >= this.end;
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
      if (this.pos >= this.end) throw new OnnxParseError("truncated varint: not an ONNX model file");
      const byte = this.bytes[this.pos++]!;
      result += (byte & 0x7f) * scale;
      if ((byte & 0x80) === 0) return result;
      scale *= 128;
    }
    throw new OnnxParseError("varint longer than 10 bytes: not an ONNX model file");
  }

  lengthDelimited(): [number, number] {
    const length = this.varint();
    const start = this.pos;
    if (start + length > this.end)
      throw new OnnxParseError("field runs past the end: not an ONNX model file");
    this.pos += length;
    return [start, start + length];
  }

  skip(wire: number): void {
    switch (wire) {
      case WIRE_VARINT:
        this.varint();
        return;
      case WIRE_I64:
        this.pos += 8;
        return;
      case WIRE_LEN:
        this.lengthDelimited();
        return;
      case WIRE_I32:
        this.pos += 4;
        return;
      default:
        throw new OnnxParseError(`protobuf wire type ${wire} is not used by ONNX: not an ONNX model file`);
    }
  }
}
