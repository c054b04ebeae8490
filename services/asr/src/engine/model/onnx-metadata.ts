/**
 * Reads `metadata_props` (vocab_size, subsampling_factor, normalize_type …) from an ONNX file.
 * onnxruntime-node does not expose a model's custom metadata, so the top level of the ModelProto
 * protobuf is walked here; the graph (field 7) is skipped by its length without being parsed.
 */
import { ProtoReader, WIRE_LEN } from "./protobuf-wire.ts";

export { OnnxParseError } from "./protobuf-wire.ts";

const METADATA_PROPS_FIELD = 14;
const KEY_FIELD = 1;
const VALUE_FIELD = 2;

export function readOnnxMetadata(bytes: Uint8Array): Map<string, string> {
  const props = new Map<string, string>();
  const reader = new ProtoReader(bytes, 0, bytes.length);
  while (!reader.done()) {
    const { field, wire } = reader.tag();
    if (field === METADATA_PROPS_FIELD && wire === WIRE_LEN) {
      const [start, end] = reader.payload(wire);
      const entry = new ProtoReader(bytes, start, end);
      let key = "";
      let value = "";
      while (!entry.done()) {
        const t = entry.tag();
        if (t.wire === WIRE_LEN && (t.field === KEY_FIELD || t.field === VALUE_FIELD)) {
          const [s, e] = entry.payload(t.wire);
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
