"use client";

import { type FormEvent, useEffect, useState } from "react";

import { type KeyRefusal, onKeyRefused, saveApiKey, storedApiKey } from "@/lib/api-key";

import styles from "./ApiKeyControl.module.css";

const REFUSAL_TEXT: Record<KeyRefusal, string> = {
  missing: "This API needs an API key (it answered 401). Enter yours to use the viewer.",
  invalid: "The API refused the stored API key (401). Enter a valid one.",
};

/**
 * The header's "API key" button and its panel: enter, replace or forget the key the viewer sends as
 * `X-API-Key` (lib/api-key.ts). The panel opens by itself, saying why, when the API answers 401.
 * The key is read after mounting: the static export is prerendered without one.
 */
export function ApiKeyControl() {
  const [hasKey, setHasKey] = useState(false);
  const [open, setOpen] = useState(false);
  const [refusal, setRefusal] = useState<KeyRefusal | null>(null);
  const [draft, setDraft] = useState("");

  useEffect(() => {
    setHasKey(storedApiKey() !== null);
    return onKeyRefused((next) => {
      setRefusal(next);
      setOpen(true);
    });
  }, []);

  const save = (event: FormEvent) => {
    event.preventDefault();
    if (draft.trim()) saveApiKey(draft.trim());
  };

  return (
    <div className={styles.control}>
      <button
        type="button"
        className={`${styles.toggle} ${refusal ? styles.toggleRefused : ""}`}
        onClick={() => setOpen((value) => !value)}
        aria-expanded={open}
        data-testid="api-key-button"
        data-state={hasKey ? "set" : "unset"}
      >
        <span className={`${styles.dot} ${hasKey ? styles.dotSet : ""}`} aria-hidden />
        API key
      </button>
      {open && (
        <form className={styles.panel} onSubmit={save} data-testid="api-key-panel">
          {refusal && (
            <p className={styles.refused} role="alert" data-testid="api-key-required">
              {REFUSAL_TEXT[refusal]}
            </p>
          )}
          <label htmlFor="api-key-input">API key</label>
          <div className={styles.row}>
            <input
              id="api-key-input"
              type="password"
              autoComplete="off"
              spellCheck={false}
              placeholder={hasKey ? "replace the stored key" : "paste your key"}
              value={draft}
              onChange={(event) => setDraft(event.target.value)}
              data-testid="api-key-input"
            />
            <button type="submit" className="button primary" disabled={!draft.trim()} data-testid="api-key-save">
              Save
            </button>
          </div>
          <p className={styles.note}>
            Kept in this browser (localStorage) and sent as <code>X-API-Key</code> with every request.
            {hasKey ? " A key is stored." : " No key is stored."}
          </p>
          {hasKey && (
            <button type="button" className="button" onClick={() => saveApiKey(null)} data-testid="api-key-forget">
              Forget the key
            </button>
          )}
        </form>
      )}
    </div>
  );
}
