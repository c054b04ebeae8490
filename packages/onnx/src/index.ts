export {
  createSession,
  describeSource,
  ort,
  type ExecutionProvider,
  type ModelSource,
  type SessionPlacement,
} from "./session.ts";
export {
  checkDeclaredAgainstSession,
  type DeclaredTensor,
  type DimensionCheck,
  type GraphTensors,
} from "./tensor-check.ts";
