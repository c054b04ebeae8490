// An inference thread's first module: loader hooks of the main thread do not reach worker threads,
// so the thread loads its TypeScript through tsx the way the service itself is loaded.
import { tsImport } from "tsx/esm/api";

await tsImport("./thread-main.ts", import.meta.url);
