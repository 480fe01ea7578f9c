"use client";

import { useEffect, useState } from "react";

import { API_BASE } from "@/lib/api";
import { authHeaders } from "@/lib/api-key";

type Served = "checking" | "yes" | "no";

/**
 * The header's link to the API's documentation pages (/docs). An API with keys and without
 * PUBLIC_DOCS does not serve them (404 `docs_not_public`: the page would fetch /openapi.json, which
 * then needs a key the browser cannot send), so the link asks once after mounting and hides itself
 * when the pages are not there, instead of leading to an error.
 */
export function DocsLink() {
  const [served, setServed] = useState<Served>("checking");

  useEffect(() => {
    let current = true;
    fetch(`${API_BASE}/docs`, { headers: authHeaders() })
      .then((response) => current && setServed(response.ok ? "yes" : "no"))
      .catch(() => current && setServed("no"));
    return () => {
      current = false;
    };
  }, []);

  return (
    <a href={`${API_BASE}/docs`} target="_blank" rel="noreferrer" data-testid="docs-link" data-served={served}
       hidden={served === "no"}>
      API docs
    </a>
  );
}
