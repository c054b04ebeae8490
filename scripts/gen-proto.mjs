// Generates TypeScript types for the gRPC contracts in proto/ (run by postinstall and pretest).
import { execFileSync } from "node:child_process";
import { readdirSync, rmSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const protoDir = join(root, "proto");
const outDir = join(root, "packages/proto/src/generated");

function protoFiles(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return protoFiles(path);
    return name.endsWith(".proto") ? [relative(protoDir, path)] : [];
  });
}

rmSync(outDir, { recursive: true, force: true });
execFileSync(
  process.execPath,
  [
    join(root, "node_modules/@grpc/proto-loader/build/bin/proto-loader-gen-types.js"),
    ...protoFiles(protoDir),
    "--grpcLib=@grpc/grpc-js",
    "--longs=String",
    "--enums=String",
    "--defaults",
    "--oneofs",
    `--outDir=${outDir}`,
    "--includeComments",
    `--includeDirs=${protoDir}`,
  ],
  { stdio: "inherit" },
);
