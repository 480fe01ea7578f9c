"use client";

import type { JsonSchema } from "@/lib/api";
import { humanize } from "@/lib/format";

import styles from "./CreateJobForm.module.css";

/** The values typed into a provider's option fields, as strings (checkboxes: "true"/"false"). */
export type OptionValues = Record<string, string>;

type FieldKind = "boolean" | "integer" | "number" | "string" | "enum";

interface Field {
  name: string;
  kind: FieldKind;
  schema: JsonSchema;
}

/** The first concrete schema of `anyOf: [X, {type: null}]` (pydantic's `X | None`). */
function concrete(schema: JsonSchema): JsonSchema {
  if (schema.anyOf) {
    const other = schema.anyOf.find((option) => option.type !== "null");
    if (other) return { ...other, title: schema.title, description: schema.description, default: schema.default };
  }
  return schema;
}

/** The fields of an options schema that a plain form can edit (nested objects and lists are left out). */
export function optionFields(schema: JsonSchema | undefined): Field[] {
  const fields: Field[] = [];
  for (const [name, raw] of Object.entries(schema?.properties ?? {})) {
    const prop = concrete(raw);
    if (prop.enum) fields.push({ name, kind: "enum", schema: prop });
    else if (prop.type === "boolean" || prop.type === "integer" || prop.type === "number" || prop.type === "string") {
      fields.push({ name, kind: prop.type, schema: prop });
    }
  }
  return fields;
}

/** The options object to send: only fields the user set, converted to their schema types. */
export function optionsPayload(schema: JsonSchema | undefined, values: OptionValues): Record<string, unknown> {
  const payload: Record<string, unknown> = {};
  for (const field of optionFields(schema)) {
    const value = values[field.name];
    if (value === undefined || value === "") continue;
    if (field.kind === "boolean") {
      if (value === String(field.schema.default ?? false)) continue;
      payload[field.name] = value === "true";
    } else if (field.kind === "integer" || field.kind === "number") {
      payload[field.name] = Number(value);
    } else if (field.kind === "enum") {
      const match = field.schema.enum?.find((option) => String(option) === value);
      payload[field.name] = match ?? value;
    } else {
      payload[field.name] = value;
    }
  }
  return payload;
}

export function OptionsFields({
  stage,
  schema,
  values,
  onChange,
}: {
  stage: string;
  schema: JsonSchema | undefined;
  values: OptionValues;
  onChange: (values: OptionValues) => void;
}) {
  const fields = optionFields(schema);
  if (fields.length === 0) return null;
  const set = (name: string, value: string) => onChange({ ...values, [name]: value });
  return (
    <div className={styles.options}>
      {fields.map((field) => {
        const id = `option-${stage}-${field.name}`;
        const label = field.schema.title ?? humanize(field.name);
        const hint = field.schema.description;
        const fallback = field.schema.default;
        if (field.kind === "boolean") {
          const checked = (values[field.name] ?? String(fallback ?? false)) === "true";
          return (
            <label key={id} className={styles.checkbox} title={hint}>
              <input
                id={id}
                type="checkbox"
                data-testid={id}
                checked={checked}
                onChange={(event) => set(field.name, String(event.target.checked))}
              />
              {label}
            </label>
          );
        }
        return (
          <div key={id} className={styles.field}>
            <label htmlFor={id}>{label}</label>
            {field.kind === "enum" ? (
              <select
                id={id}
                data-testid={id}
                value={values[field.name] ?? String(fallback ?? "")}
                onChange={(event) => set(field.name, event.target.value)}
              >
                {(field.schema.enum ?? []).map((option) => (
                  <option key={String(option)} value={String(option)}>
                    {String(option)}
                  </option>
                ))}
              </select>
            ) : (
              <input
                id={id}
                data-testid={id}
                type={field.kind === "string" ? "text" : "number"}
                step={field.kind === "integer" ? 1 : "any"}
                min={field.schema.minimum}
                max={field.schema.maximum}
                maxLength={field.schema.maxLength}
                placeholder={fallback === undefined || fallback === null ? "" : String(fallback)}
                value={values[field.name] ?? ""}
                onChange={(event) => set(field.name, event.target.value)}
              />
            )}
            {hint ? <span className={styles.hint}>{hint}</span> : null}
          </div>
        );
      })}
    </div>
  );
}
