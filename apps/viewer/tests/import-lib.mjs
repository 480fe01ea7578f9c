// Loads a module of ../lib into node's test runner: transpiled with the project's own `typescript`
// package (the modules have no run-time imports) into a temporary folder removed after the tests.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after } from "node:test";
import { fileURLToPath, pathToFileURL } from "node:url";

import ts from "typescript";

const LIB = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "lib");

export async function importLib(name) {
  const source = path.join(LIB, `${name}.ts`);
  const workDir = mkdtempSync(path.join(tmpdir(), `mmf-${name}-`));
  after(() => rmSync(workDir, { recursive: true, force: true }));
  const compiled = ts.transpileModule(readFileSync(source, "utf8"), {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
    fileName: source,
  });
  const target = path.join(workDir, `${name}.mjs`);
  writeFileSync(target, compiled.outputText);
  return import(pathToFileURL(target).href);
}
