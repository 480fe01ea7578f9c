/**
 * The API key the viewer sends as `X-API-Key`, kept in this browser's localStorage so that every tab
 * and every visit uses it (the page is static and holds no data; the key is what the API checks).
 *
 * Saving or forgetting the key reloads the page: every fetch, stream and preview starts again with
 * it, instead of each component having to notice the change.
 *
 * When the API refuses a request with 401, `reportRefusedKey` tells the header's key control, which
 * asks for a key; a refusal seen before the control subscribed is replayed to it.
 */

const STORAGE_KEY = "mmf.apiKey";

export type KeyRefusal = "missing" | "invalid";

type RefusalListener = (refusal: KeyRefusal) => void;

const refusalListeners = new Set<RefusalListener>();
let lastRefusal: KeyRefusal | null = null;

/** The stored key, or null (none stored, or no browser storage here: prerendering, private modes). */
export function storedApiKey(): string | null {
  try {
    return globalThis.localStorage?.getItem(STORAGE_KEY) || null;
  } catch {
    return null;
  }
}

/** Store `key` (or forget the stored one with null) and reload the page so that everything uses it. */
export function saveApiKey(key: string | null): void {
  if (key) localStorage.setItem(STORAGE_KEY, key);
  else localStorage.removeItem(STORAGE_KEY);
  window.location.reload();
}

/** The headers that authenticate a request: `X-API-Key` when a key is stored, else none. */
export function authHeaders(): Record<string, string> {
  const key = storedApiKey();
  return key ? { "X-API-Key": key } : {};
}

export function reportRefusedKey(refusal: KeyRefusal): void {
  lastRefusal = refusal;
  for (const listener of refusalListeners) listener(refusal);
}

/** Call `listener` on every 401 (at once if one was already seen); returns the unsubscribe function. */
export function onKeyRefused(listener: RefusalListener): () => void {
  refusalListeners.add(listener);
  if (lastRefusal) listener(lastRefusal);
  return () => {
    refusalListeners.delete(listener);
  };
}
