import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Route } from "../http/router.ts";

const here = dirname(fileURLToPath(import.meta.url));

/** The chart library's self-contained browser build, from node_modules; the page needs no build step. */
function chartJsBrowserBuild(): string {
  const main = createRequire(import.meta.url).resolve("chart.js");
  return join(dirname(main), "chart.umd.min.js");
}

const pageHeaders = {
  // Only the page's own scripts and styles; API calls go to the same origin.
  "content-security-policy":
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; frame-ancestors 'none'; base-uri 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
};

/** Routes serving the single page and its files, read once at start. */
export async function webAssetRoutes(): Promise<Route[]> {
  const files: { path: string; file: string; contentType: string }[] = [
    { path: "/", file: join(here, "index.html"), contentType: "text/html; charset=utf-8" },
    { path: "/app.js", file: join(here, "app.js"), contentType: "text/javascript; charset=utf-8" },
    { path: "/charts.js", file: join(here, "charts.js"), contentType: "text/javascript; charset=utf-8" },
    { path: "/api.js", file: join(here, "api.js"), contentType: "text/javascript; charset=utf-8" },
    { path: "/style.css", file: join(here, "style.css"), contentType: "text/css; charset=utf-8" },
    {
      path: "/vendor/chart.umd.min.js",
      file: chartJsBrowserBuild(),
      contentType: "text/javascript; charset=utf-8",
    },
  ];
  return Promise.all(
    files.map(async ({ path, file, contentType }): Promise<Route> => {
      const body = await readFile(file);
      return {
        method: "GET",
        path,
        access: "public",
        handle: async () => ({ file: { body, contentType }, headers: pageHeaders }),
      };
    }),
  );
}
