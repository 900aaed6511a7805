/** Whether the n-th request (from 0) is among a share spread evenly over requests: 0.5 hits 0, 2, 4… */
export function spread(shareOption: number | undefined, n: number): boolean {
  const share = Math.min(1, Math.max(0, shareOption ?? 0));
  return share > 0 && Math.ceil((n + 1) * share) > Math.ceil(n * share);
}
