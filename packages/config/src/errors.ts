/** One environment variable that is missing or malformed, with what to set. */
export interface ConfigIssue {
  variable: string;
  problem: string;
}

export class ConfigError extends Error {
  override readonly name = "ConfigError";

  constructor(
    readonly service: string,
    readonly issues: ConfigIssue[],
  ) {
    super(
      `${service}: invalid configuration\n` +
        issues.map((i) => `  ${i.variable}: ${i.problem}`).join("\n") +
        `\nSet the variables above (see the configuration table in README.md) and start again.`,
    );
  }
}
