"use client";

import { useEffect, useState } from "react";

import { fetchApi } from "./api";
import { storedApiKey } from "./api-key";

export interface AuthorizedUrl {
  /** What to give the element; null while the bytes are being fetched. */
  url: string | null;
  problem: string | null;
}

/**
 * A URL that elements which load by themselves (`<model-viewer>`, `<img>`) can use for an API
 * download URL. Without an API key it is `src` itself (the browser streams it; model-viewer reports
 * progress). With a key those elements could not send `X-API-Key`, so the bytes are fetched with it
 * and handed over as a blob: URL, revoked when `src` changes or the element goes. Same origin as the
 * API, so it needs neither the object store's CORS nor a signed URL that may expire.
 */
export function useAuthorizedUrl(src: string): AuthorizedUrl {
  const [state, setState] = useState<AuthorizedUrl>({ url: null, problem: null });

  useEffect(() => {
    if (!storedApiKey()) {
      setState({ url: src, problem: null });
      return;
    }
    let current = true;
    let objectUrl: string | null = null;
    setState({ url: null, problem: null });
    fetchApi(src)
      .then((response) => response.blob())
      .then((blob) => {
        if (!current) return;
        objectUrl = URL.createObjectURL(blob);
        setState({ url: objectUrl, problem: null });
      })
      .catch((error: unknown) => {
        if (current) setState({ url: null, problem: error instanceof Error ? error.message : String(error) });
      });
    return () => {
      current = false;
      if (objectUrl) URL.revokeObjectURL(objectUrl);
    };
  }, [src]);

  return state;
}
