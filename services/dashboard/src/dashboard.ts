import type { Logger } from "pino";
import type { Registry } from "prom-client";
import { analystRoutes } from "./analytics/routes.ts";
import { BearerTokens } from "./http/auth.ts";
import { Router } from "./http/router.ts";
import { startHttpServer, type HttpServer } from "./http/server.ts";
import type { SqlRunner } from "./sql-runner.ts";
import { webAssetRoutes } from "./web/assets.ts";
import { workOrderRoutes } from "./work-orders/routes.ts";

export interface DashboardDeps {
  /**
   * Runs as the analyst role: the database decides what the dashboard may read (tickets with their
   * redacted transcript, never the utterances) and change (a ticket's status and assignee).
   */
  db: SqlRunner;
  tokens: { analyst: string[]; workOrder: string[] };
  logger: Logger;
  registry: Registry;
}

/** The page, the analyst API and the work-order API on one HTTP listener. */
export async function startDashboard(
  listen: { host: string; port: number },
  deps: DashboardDeps,
): Promise<HttpServer> {
  const router = new Router([
    ...(await webAssetRoutes()),
    ...analystRoutes(deps.db),
    ...workOrderRoutes(deps.db),
  ]);
  return startHttpServer(listen, {
    router,
    tokens: new BearerTokens(deps.tokens),
    logger: deps.logger,
    registry: deps.registry,
  });
}
