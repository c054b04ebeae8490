import type * as grpc from "@grpc/grpc-js";
import { HealthImplementation } from "grpc-health-check";

export type ServingStatus = "SERVING" | "NOT_SERVING";

/**
 * grpc.health.v1 for a server. The overall status ("") starts NOT_SERVING and is set from real state
 * (model loaded, NATS connected) by the service.
 */
export class GrpcHealth {
  private readonly impl: HealthImplementation;

  constructor(private readonly services: string[]) {
    const initial: Record<string, ServingStatus> = { "": "NOT_SERVING" };
    for (const name of services) initial[name] = "NOT_SERVING";
    this.impl = new HealthImplementation(initial);
  }

  addToServer(server: grpc.Server): void {
    this.impl.addToServer(server);
  }

  set(status: ServingStatus): void {
    this.impl.setStatus("", status);
    for (const name of this.services) this.impl.setStatus(name, status);
  }
}
