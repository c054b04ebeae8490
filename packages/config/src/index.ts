export { parseConfig, env, type Env } from "./parse.ts";
export { ConfigError, type ConfigIssue } from "./errors.ts";
export { z } from "zod";
