// Compile every shipped JSON Schema with a real ajv 8 in strict mode.
//
//   node tests/ajv/compile_schemas.mjs AJV_PREFIX SCHEMAS_DIR
//
// AJV_PREFIX is a folder where `npm install ajv@8` was run (it holds
// node_modules/ajv); SCHEMAS_DIR is the repository's schemas/ folder.
// Prints one line per error or warning ajv reports, then a summary; the exit
// code is 0 only when every schema compiled with no error and no warning.
// tests/test_schema_tools.py runs it when node and such an ajv are available.
import { createRequire } from "node:module";
import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";

const [prefix, schemasDir] = process.argv.slice(2);
if (!prefix || !schemasDir) {
  console.error("usage: node compile_schemas.mjs AJV_PREFIX SCHEMAS_DIR");
  process.exit(2);
}
const require = createRequire(join(resolve(prefix), "package.json"));
const Ajv = require("ajv").default;
const version = require("ajv/package.json").version;

const names = readdirSync(schemasDir).filter((name) => name.endsWith(".json")).sort();
const schemas = names.map((name) => JSON.parse(readFileSync(join(schemasDir, name), "utf8")));

// Compile everything twice: strict "log" reports every violation (not only the
// first), strict true is what a user's `new Ajv({strict: true})` does.
function compileAll(strict) {
  const problems = [];
  let current = "(setup)";
  const note = (level) => (...parts) => problems.push(`${current}: ${level}: ${parts.join(" ")}`);
  const logger = { log: () => {}, warn: note("warning"), error: note("error") };
  const ajv = new Ajv({ strict, logger });
  // Annotations of ours that editors read; they validate nothing.
  ajv.addKeyword({ keyword: "markdownDescription", schemaType: "string" });
  ajv.addKeyword({ keyword: "errorMessage", schemaType: "string" });
  // "format" is only a hint for editors here: the same rule is also a pattern.
  ajv.addFormat("date-time", true);
  names.forEach((name, index) => {
    current = name;
    ajv.addSchema(schemas[index]);
  });
  names.forEach((name, index) => {
    current = name;
    try {
      ajv.getSchema(schemas[index].$id);
    } catch (error) {
      problems.push(`${name}: error (strict: ${strict}): ${error.message}`);
    }
  });
  return problems;
}

const problems = [...new Set([...compileAll("log"), ...compileAll(true)])];
for (const line of problems) console.log(line);
console.log(`ajv ${version} (strict): ${names.length} schemas, ${problems.length} problems`);
process.exit(problems.length ? 1 : 0);
