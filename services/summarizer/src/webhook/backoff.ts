export interface BackoffPolicy {
  baseMs: number;
  maxMs: number;
}

/**
 * Wait before attempt `attempt + 1` after `attempt` failures: exponential from `baseMs`, capped at
 * `maxMs`, with "equal jitter" (half fixed, half random) so receivers that come back are not hit
 * by every sender at once. `random` is in [0, 1).
 */
export function retryDelayMs(attempt: number, policy: BackoffPolicy, random: number): number {
  const exponential = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(exponential / 2 + (exponential / 2) * random);
}
