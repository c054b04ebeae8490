/**
 * The V8 heap setting an ASR process starts with. Each window's pass hands back its outputs in new
 * buffers (onnxruntime-node copies every output), so a process that streams allocates and frees hundreds of
 * megabytes a second over a live heap of only about 16 MB. With V8's default limits such a process
 * settles, after a few seconds, into marking its whole old generation over and over on background threads,
 * on the cores the passes need: one stream's windows took two fifths more CPU than wall time, a batched run of
 * 64 streams a sixth longer. An initial old generation of 128 MB keeps the collector's limits clear of that
 * (bench/asr/sherpa-compare.ts, BENCHMARKS.md). V8 reads the setting once, when it sets up the heap, and
 * Node does not take it from NODE_OPTIONS: it goes on the node command line (as in deploy/k8s/base/asr.yaml
 * and the README's commands).
 */
export const ASR_NODE_FLAGS: readonly string[] = ["--initial-old-space-size=128"];

/** The flags of ASR_NODE_FLAGS that this process was started without (by their names). */
export function missingNodeFlags(execArgv: readonly string[] = process.execArgv): string[] {
  return ASR_NODE_FLAGS.filter((flag) => {
    const name = flag.split("=")[0]!;
    return !execArgv.some((arg) => arg === flag || arg.startsWith(`${name}=`));
  });
}
