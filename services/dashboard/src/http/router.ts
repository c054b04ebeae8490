import type { IncomingHttpHeaders } from "node:http";
import type { Audience } from "./auth.ts";

export type Method = "GET" | "PATCH" | "POST" | "PUT" | "DELETE";

export interface RouteRequest {
  params: Record<string, string>;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  /** Parsed JSON body; undefined for requests without one. */
  body: unknown;
}

export type Reply =
  | { status?: number; json: unknown; headers?: Record<string, string> }
  | { status?: number; file: { body: Buffer; contentType: string }; headers?: Record<string, string> };

export interface Route {
  method: Method;
  /** A path with `:name` segments, e.g. `/api/v1/tickets/:id`. */
  path: string;
  /** The API whose token the route needs; `public` routes serve the page and its assets. */
  access: Audience | "public";
  handle(request: RouteRequest): Promise<Reply>;
}

interface CompiledRoute {
  route: Route;
  pattern: RegExp;
  names: string[];
}

export type Match =
  | { kind: "found"; route: Route; params: Record<string, string> }
  | { kind: "method-not-allowed"; allowed: Method[] }
  | { kind: "not-found" };

/** Matches a method and a path to a route, decoding `:name` segments. */
export class Router {
  private readonly routes: CompiledRoute[];

  constructor(routes: Route[]) {
    this.routes = routes.map((route) => {
      const names: string[] = [];
      const source = route.path
        .split("/")
        .map((segment) => {
          if (!segment.startsWith(":")) return segment.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
          names.push(segment.slice(1));
          return "([^/]+)";
        })
        .join("/");
      return { route, pattern: new RegExp(`^${source}$`), names };
    });
  }

  match(method: string, path: string): Match {
    const allowed: Method[] = [];
    for (const { route, pattern, names } of this.routes) {
      const m = pattern.exec(path);
      if (m === null) continue;
      if (route.method !== method) {
        allowed.push(route.method);
        continue;
      }
      const params: Record<string, string> = {};
      for (const [i, name] of names.entries()) {
        const raw = m[i + 1]!;
        try {
          params[name] = decodeURIComponent(raw);
        } catch {
          params[name] = raw;
        }
      }
      return { kind: "found", route, params };
    }
    return allowed.length > 0 ? { kind: "method-not-allowed", allowed } : { kind: "not-found" };
  }
}
