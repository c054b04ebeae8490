import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { CallscribeError } from "@callscribe/errors";
import { latencyBuckets } from "@callscribe/runtime";
import type { Logger } from "pino";
import { Histogram, type Registry } from "prom-client";
import type { BearerTokens } from "./auth.ts";
import { InvalidArgumentError, PayloadTooLargeError } from "./errors.ts";
import type { Reply, Router } from "./router.ts";

const MAX_BODY_BYTES = 64 * 1024;

export interface HttpServer {
  port: number;
  /** Stops taking connections and waits for requests in flight. */
  close(): Promise<void>;
}

export interface HttpServerDeps {
  router: Router;
  tokens: BearerTokens;
  logger: Logger;
  registry: Registry;
}

export async function startHttpServer(
  options: { host: string; port: number },
  { router, tokens, logger, registry }: HttpServerDeps,
): Promise<HttpServer> {
  const duration = new Histogram({
    name: "dashboard_http_request_duration_seconds",
    help: "Time to answer an HTTP request, by route and status",
    labelNames: ["method", "route", "status"],
    buckets: latencyBuckets,
    registers: [registry],
  });

  const server: Server = createServer((req, res) => {
    const started = process.hrtime.bigint();
    let routeLabel = "unmatched";
    void (async () => {
      const url = new URL(req.url ?? "/", "http://dashboard.invalid");
      const match = router.match(req.method ?? "GET", url.pathname);
      if (match.kind === "not-found") return send(res, { status: 404, json: { error: "no such path" } });
      if (match.kind === "method-not-allowed") {
        return send(res, {
          status: 405,
          json: { error: `use ${match.allowed.join(" or ")} on this path` },
          headers: { allow: match.allowed.join(", ") },
        });
      }
      routeLabel = match.route.path;
      if (match.route.access !== "public") tokens.check(req.headers, match.route.access);
      const body = await readJsonBody(req);
      const reply = await match.route.handle({
        params: match.params,
        query: url.searchParams,
        headers: req.headers,
        body,
      });
      send(res, reply);
    })()
      .catch((err: unknown) => {
        if (err instanceof CallscribeError) {
          send(res, { status: err.httpStatus, json: { error: err.message } });
          return;
        }
        // Messages of unexpected errors may quote SQL or data; the client gets none of it.
        logger.error({ err, route: routeLabel, method: req.method }, "request failed");
        send(res, { status: 500, json: { error: "internal error; see the dashboard log" } });
      })
      .finally(() => {
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        duration.observe({ method: req.method ?? "", route: routeLabel, status: res.statusCode }, seconds);
      });
  });
  server.keepAliveTimeout = 5_000;

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}

async function readJsonBody(req: IncomingMessage): Promise<unknown> {
  const declared = Number(req.headers["content-length"] ?? "0");
  if (declared > MAX_BODY_BYTES) {
    req.resume();
    throw new PayloadTooLargeError(`the body is over ${MAX_BODY_BYTES} bytes`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new PayloadTooLargeError(`the body is over ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  if (size === 0) return undefined;
  const type = req.headers["content-type"] ?? "";
  if (!/^application\/json\b/i.test(type)) {
    throw new InvalidArgumentError("the body must be JSON; send Content-Type: application/json");
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8")) as unknown;
  } catch {
    throw new InvalidArgumentError("the body is not valid JSON");
  }
}

function send(res: ServerResponse, reply: Reply): void {
  if (res.headersSent) return;
  const headers: Record<string, string> = { "cache-control": "no-store", ...reply.headers };
  if ("json" in reply) {
    res
      .writeHead(reply.status ?? 200, { ...headers, "content-type": "application/json; charset=utf-8" })
      .end(JSON.stringify(reply.json));
  } else {
    res
      .writeHead(reply.status ?? 200, { ...headers, "content-type": reply.file.contentType })
      .end(reply.file.body);
  }
}
