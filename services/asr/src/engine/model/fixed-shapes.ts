/**
 * A model whose graph inputs all have fixed shapes: each named dimension (the batch, the frames) replaced by
 * the value one kind of pass always has. onnxruntime can then compute every shape in the graph when it
 * loads it and fold the operators that compute shapes (Shape, Gather, Unsqueeze, Concat on shapes) into
 * constants. A streaming graph's pass of one stream's window is small enough for those operators to count
 * (window-sessions.ts).
 */
import {
  asBytes,
  asString,
  decodeMessage,
  encodeMessage,
  messageField,
  varintField,
  WIRE_LEN,
  type WireField,
} from "./protobuf-wire.ts";
import {
  DIM_VALUE,
  GRAPH_INPUT,
  MODEL_GRAPH,
  SHAPE_DIM,
  TENSOR_TYPE_SHAPE,
  TYPE_TENSOR,
  VALUE_NAME,
  VALUE_TYPE,
} from "./onnx-fields.ts";

export class FixedShapeError extends Error {
  override readonly name = "FixedShapeError";
}

/**
 * The model with each graph input of `shapes` declared with exactly that shape. Every graph input must be
 * given one, of the rank the graph declares, agreeing with each dimension the graph already fixes;
 * otherwise a FixedShapeError says which does not.
 */
export function withFixedInputShapes(
  model: Uint8Array,
  shapes: Readonly<Record<string, readonly number[]>>,
): Uint8Array {
  const fields = decodeMessage(model);
  const graphField = fields.find((f) => f.field === MODEL_GRAPH && f.wire === WIRE_LEN);
  if (!graphField) throw new FixedShapeError("the model has no graph");
  const graph = decodeMessage(asBytes(graphField));
  const seen = new Set<string>();
  const rebuilt = graph.map((f) => {
    if (f.field !== GRAPH_INPUT) return f;
    const value = decodeMessage(asBytes(f));
    const nameField = value.find((v) => v.field === VALUE_NAME);
    const name = nameField ? asString(nameField) : "";
    const shape = shapes[name];
    if (!shape) throw new FixedShapeError(`no shape given for graph input ${name}`);
    seen.add(name);
    return messageField(
      GRAPH_INPUT,
      value.map((v) => (v.field === VALUE_TYPE ? fixType(name, v, shape) : v)),
    );
  });
  const unknown = Object.keys(shapes).filter((name) => !seen.has(name));
  if (unknown.length > 0) throw new FixedShapeError(`the graph has no input ${unknown.join(", ")}`);
  return encodeMessage(fields.map((f) => (f === graphField ? messageField(MODEL_GRAPH, rebuilt) : f)));
}

/** A TypeProto of a tensor with its dimensions replaced by `shape`. */
function fixType(name: string, typeField: WireField, shape: readonly number[]): WireField {
  const type = decodeMessage(asBytes(typeField));
  const tensorField = type.find((t) => t.field === TYPE_TENSOR);
  if (!tensorField) throw new FixedShapeError(`graph input ${name} is not a tensor`);
  const tensor = decodeMessage(asBytes(tensorField));
  const shapeField = tensor.find((t) => t.field === TENSOR_TYPE_SHAPE);
  if (!shapeField) throw new FixedShapeError(`graph input ${name} declares no shape`);
  const dims = decodeMessage(asBytes(shapeField)).filter((d) => d.field === SHAPE_DIM);
  if (dims.length !== shape.length)
    throw new FixedShapeError(`graph input ${name} has rank ${dims.length}, not ${shape.length}`);
  dims.forEach((d, i) => {
    const value = decodeMessage(asBytes(d)).find((v) => v.field === DIM_VALUE);
    if (value && Number(value.value) !== shape[i])
      throw new FixedShapeError(
        `graph input ${name} fixes dimension ${i} at ${Number(value.value)}, not ${shape[i]}`,
      );
  });
  const fixedShape = messageField(
    TENSOR_TYPE_SHAPE,
    shape.map((n) => messageField(SHAPE_DIM, [varintField(DIM_VALUE, n)])),
  );
  const fixedTensor = tensor.map((t) => (t === shapeField ? fixedShape : t));
  return messageField(
    VALUE_TYPE,
    type.map((t) => (t === tensorField ? messageField(TYPE_TENSOR, fixedTensor) : t)),
  );
}
