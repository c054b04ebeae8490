import type * as ort from "onnxruntime-node";

/** A tensor as a model's manifest declares it: a fixed dimension is a number, a symbolic one a name. */
export interface DeclaredTensor {
  name: string;
  dtype: string;
  shape: readonly (number | string)[];
}

/** The names and metadata of a graph's tensors, as a session or an inference runner reports them. */
export interface GraphTensors {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  readonly inputMetadata: readonly ort.InferenceSession.ValueMetadata[];
  readonly outputMetadata: readonly ort.InferenceSession.ValueMetadata[];
}

/**
 * Checks one dimension itself instead of comparing it with the manifest (a width that another file
 * decides, such as a vocabulary's): returns true when it has handled the dimension.
 */
export type DimensionCheck = (tensor: DeclaredTensor, dim: number, graphSize: number) => boolean;

/**
 * Compares declared tensors with the graph's: names, element types, ranks and fixed dimensions; each
 * mismatch goes onto `problems` as a sentence naming the tensor. For inputs, a graph input that the
 * manifest does not declare is a mismatch too.
 */
export function checkDeclaredAgainstSession(
  session: GraphTensors,
  declared: readonly DeclaredTensor[],
  kind: "input" | "output",
  problems: string[],
  checkDimension?: DimensionCheck,
): void {
  const names = kind === "input" ? session.inputNames : session.outputNames;
  const metadata = kind === "input" ? session.inputMetadata : session.outputMetadata;
  for (const spec of declared) {
    const position = names.indexOf(spec.name);
    if (position < 0) {
      problems.push(
        `${kind} "${spec.name}" is declared but the graph's ${kind}s are ${names.map((n) => `"${n}"`).join(", ")}`,
      );
      continue;
    }
    const meta = metadata[position];
    if (!meta || !meta.isTensor) {
      problems.push(`${kind} "${spec.name}" is not a tensor in the graph`);
      continue;
    }
    if (meta.type !== spec.dtype)
      problems.push(`${kind} "${spec.name}" is ${meta.type} in the graph, declared ${spec.dtype}`);
    // A graph that leaves the rank open (shape []) is checked by the dry run instead.
    if (meta.shape.length > 0 && meta.shape.length !== spec.shape.length) {
      problems.push(
        `${kind} "${spec.name}" has rank ${meta.shape.length} in the graph, declared rank ${spec.shape.length}`,
      );
      continue;
    }
    meta.shape.forEach((dim, d) => {
      if (typeof dim !== "number") return;
      if (checkDimension?.(spec, d, dim)) return;
      const want = spec.shape[d];
      if (typeof want === "number" && dim !== want)
        problems.push(`${kind} "${spec.name}" dim ${d} is ${dim} in the graph, declared ${want}`);
    });
  }
  if (kind === "input") {
    for (const name of names) {
      if (!declared.some((spec) => spec.name === name))
        problems.push(`the graph needs input "${name}", which the manifest does not declare`);
    }
  }
}
