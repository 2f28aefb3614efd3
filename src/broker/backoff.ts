/** Full-jitter exponential backoff (the AWS Architecture Blog's recommendation for contended optimistic writes). */
export function backoffDelay(attempt: number, baseMs: number, maxMs: number, random: () => number): number {
  return random() * Math.min(maxMs, baseMs * 2 ** attempt);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
