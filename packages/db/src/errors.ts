/** Postgres (or the embedded PGlite store) cannot be reached or opened. */
export class DatabaseUnavailableError extends Error {
  override readonly name = "DatabaseUnavailableError";

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** The database options cannot name a database this package can open. */
export class DatabaseConfigError extends Error {
  override readonly name = "DatabaseConfigError";

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
