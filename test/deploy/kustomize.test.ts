import { execFileSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const k8s = fileURLToPath(new URL("../../deploy/k8s/", import.meta.url));
const overlays = readdirSync(join(k8s, "overlays")).filter((d) =>
  existsSync(join(k8s, "overlays", d, "kustomization.yaml")),
);

function render(dir: string): string {
  return execFileSync("kubectl", ["kustomize", join(k8s, dir)], { encoding: "utf8" });
}

/** The rendered document of one kind and name (kustomize writes `kind` and `metadata.name` unindented). */
function document(rendered: string, kind: string, name: string): string {
  const doc = rendered
    .split(/^---$/m)
    .find(
      (d) =>
        new RegExp(`^kind: ${kind}$`, "m").test(d) &&
        new RegExp(`^metadata:\\n(?:  .*\\n)*?  name: ${name}$`, "m").test(d),
    );
  if (!doc) throw new Error(`no ${kind} ${name} in the rendered manifests`);
  return doc;
}

describe("kubectl kustomize", () => {
  for (const dir of ["base", ...overlays.map((o) => `overlays/${o}`)]) {
    it(`renders ${dir}`, () => {
      expect(render(dir)).toMatch(/^kind: Deployment$/m);
    });
  }

  it("base runs emotion on the CPU, ready on grpc.health.v1, with time to drain", () => {
    const emotion = document(render("base"), "Deployment", "emotion");
    expect(emotion).toMatch(/readinessProbe:\n\s+grpc:\n\s+port: 50061/);
    expect(emotion).toMatch(/terminationGracePeriodSeconds: 30/);
    expect(emotion).toMatch(/name: EMOTION_EXECUTION_PROVIDER\n\s+value: cpu/);
    expect(emotion).not.toMatch(/nvidia\.com\/gpu/);
    expect(document(render("base"), "Service", "emotion")).toMatch(/port: 50061/);
    expect(document(render("base"), "ConfigMap", "callscribe")).toMatch(/ASR_EMOTION_ADDRESS: emotion:50061/);
  });

  it("the gpu overlay moves emotion to NVIDIA nodes on the cuda provider", () => {
    const emotion = document(render("overlays/gpu"), "Deployment", "emotion");
    expect(emotion).toMatch(/nvidia\.com\/gpu: 1/);
    expect(emotion).toMatch(/key: nvidia\.com\/gpu/);
    expect(emotion).toMatch(/name: EMOTION_EXECUTION_PROVIDER\n\s+value: cuda/);
    expect(emotion).toMatch(/readinessProbe:\n\s+grpc:\n\s+port: 50061/);
  });
});
