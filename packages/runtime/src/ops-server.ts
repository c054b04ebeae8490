import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Registry } from "prom-client";

/** A named readiness condition from real state: NATS connected, model loaded, database reachable. */
export type ReadinessCheck = () => boolean | Promise<boolean>;

export interface OpsServer {
  port: number;
  close(): Promise<void>;
}

/**
 * `/healthz` (the process is alive), `/readyz` (every check passes) and `/metrics` for one service.
 * Separate from the service's own port so probes and scrapes never queue behind real traffic.
 */
export async function startOpsServer(options: {
  host: string;
  port: number;
  registry: Registry;
  checks: Record<string, ReadinessCheck>;
}): Promise<OpsServer> {
  const server: Server = createServer((req, res) => {
    void (async () => {
      if (req.url === "/healthz") {
        res.writeHead(200, { "content-type": "text/plain" }).end("ok\n");
      } else if (req.url === "/readyz") {
        const results = await Promise.all(
          Object.entries(options.checks).map(async ([name, check]) => {
            try {
              return [name, await check()] as const;
            } catch {
              return [name, false] as const;
            }
          }),
        );
        const failing = results.filter(([, ok]) => !ok).map(([name]) => name);
        if (failing.length === 0) res.writeHead(200, { "content-type": "text/plain" }).end("ready\n");
        else res.writeHead(503, { "content-type": "text/plain" }).end(`not ready: ${failing.join(", ")}\n`);
      } else if (req.url === "/metrics") {
        res
          .writeHead(200, { "content-type": options.registry.contentType })
          .end(await options.registry.metrics());
      } else {
        res.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
      }
    })().catch(() => {
      if (!res.headersSent) res.writeHead(500).end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
