import type * as ort from "onnxruntime-node";
import type { TensorSpec } from "./manifest.ts";

/**
 * Compares declared tensors with the session's: names, element types, ranks and fixed dimensions.
 * Each mismatch is pushed onto `problems` as a sentence naming the tensor.
 */
export function checkDeclaredAgainstSession(
  session: ort.InferenceSession,
  declared: readonly TensorSpec[],
  kind: "input" | "output",
  problems: string[],
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
    if (meta.shape.length !== spec.shape.length) {
      problems.push(
        `${kind} "${spec.name}" has rank ${meta.shape.length} in the graph, declared rank ${spec.shape.length}`,
      );
      continue;
    }
    meta.shape.forEach((dim, d) => {
      const want = spec.shape[d];
      if (typeof dim === "number" && typeof want === "number" && dim !== want)
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
