// A short-lived cache for metadata lists (metric names, label names and values) used by completion, so typing
// does not send a request per keystroke.

const TTL_MS = 60_000;
const entries = new Map<string, { at: number; value: Promise<string[]> }>();

export function cachedList(key: string, load: () => Promise<string[]>): Promise<string[]> {
  const now = Date.now();
  const hit = entries.get(key);
  if (hit && now - hit.at < TTL_MS) return hit.value;
  const value = load().catch((e: unknown) => {
    entries.delete(key);
    throw e;
  });
  entries.set(key, { at: now, value });
  return value;
}
