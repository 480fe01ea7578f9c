// Validate GLB/glTF files with the Khronos glTF validator.
//
// Usage: node validate.mjs FILE [FILE...]
// Prints the validator report as JSON (one file: the report object; several: an array of reports,
// in argument order). Exit status: 0 when no report has errors, 1 when any has, 2 when a file
// cannot be read or is not glTF at all. Warnings and infos never fail: callers decide about them.
import { readFile } from "node:fs/promises";
import path from "node:path";
import validator from "gltf-validator";

async function validateFile(file) {
  const bytes = new Uint8Array(await readFile(file));
  return validator.validateBytes(bytes, {
    uri: path.basename(file),
    maxIssues: 0,
    writeTimestamp: false,
  });
}

async function main(files) {
  if (files.length === 0) {
    console.error("usage: node validate.mjs FILE [FILE...]");
    return 2;
  }
  const reports = [];
  for (const file of files) {
    try {
      reports.push(await validateFile(file));
    } catch (error) {
      console.error(`${file}: ${error}`);
      return 2;
    }
  }
  console.log(JSON.stringify(files.length === 1 ? reports[0] : reports, null, 2));
  return reports.some((report) => report.issues.numErrors > 0) ? 1 : 0;
}

process.exitCode = await main(process.argv.slice(2));
