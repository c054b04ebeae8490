import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["packages/*/src/**/*.test.ts", "services/*/src/**/*.test.ts", "test/**/*.test.ts"],
    // Native addons (onnxruntime-node) and real sockets are safest in child processes.
    pool: "forks",
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Two cores: integration tests share Postgres, NATS and the CPU.
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
  },
});
