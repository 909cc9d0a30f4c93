#!/usr/bin/env node
// Validates one Compose file against the Compose Specification's JSON schema, offline: the schema of the
// compose-spec project (schema/compose-spec.json, the one Compose v2 validates with), as the npm package dclint
// ships it (schemas/compose.schema.json), checked with Ajv (the schema is draft-07).
//
//   validate-compose.mjs FILE | -      ("-": standard input)
//
// The file must have its variables resolved first (`docker compose config` does it; so does replacing each
// ${NAME:?...} or ${NAME:-default}): the schema checks the values that a variable stands for, as Compose does
// after interpolation. Prints "validate-compose: valid (<schema>)" and exits 0, or the first errors (at most
// 10, each as instancePath: message) and exits 1; 2 for a usage, YAML syntax or schema loading error.
//
// install_validators (scripts/validators.sh) installs the packages and runs a copy of this file placed beside
// them, since the schema is read from the folder node_modules/ beside this file.
import { readFileSync } from "node:fs";
import Ajv from "ajv";
import { parseDocument } from "yaml";

const SCHEMA_PACKAGE = "dclint";
const SCHEMA_FILE = "schemas/compose.schema.json";
const MAX_ERRORS = 10;

function fatal(message) {
  console.error(`validate-compose: ${message}`);
  process.exit(2);
}

function usage(message) {
  fatal(`${message}\nusage: validate-compose.mjs FILE | -`);
}

const args = process.argv.slice(2);
if (args.length !== 1 || (args[0].startsWith("-") && args[0] !== "-")) usage("expected one file, or - for standard input");
const file = args[0];
const name = file === "-" ? "<stdin>" : file;

let schema;
let schemaName;
try {
  const packageFolder = new URL(`./node_modules/${SCHEMA_PACKAGE}/`, import.meta.url);
  const { version } = JSON.parse(readFileSync(new URL("package.json", packageFolder), "utf8"));
  schema = JSON.parse(readFileSync(new URL(SCHEMA_FILE, packageFolder), "utf8"));
  schemaName = `${schema.$id ?? schema.id} from ${SCHEMA_PACKAGE}@${version}`;
} catch (e) {
  fatal(`cannot load the schema (${SCHEMA_PACKAGE}/${SCHEMA_FILE} beside this file): ${e.message}`);
}
// Ajv's default class is draft-07 and knows that meta-schema as http://json-schema.org/draft-07/schema#;
// the compose-spec schema names it with https and no fragment, which Ajv would look up and not find.
if (!/draft-07\/schema#?$/.test(schema.$schema ?? "")) fatal(`${schemaName}: not a draft-07 schema ($schema ${schema.$schema})`);
delete schema.$schema;

// Strict, but for the checks of Ajv's own style that the schema was not written for: type unions such as
// ["boolean", "string"] (a value, or a variable that becomes one) and object keywords beside no "type": "object".
const ajv = new Ajv({ allErrors: true, strict: true, strictTypes: false, allowUnionTypes: true });
let validate;
try {
  validate = ajv.compile(schema);
} catch (e) {
  fatal(`${schemaName} does not compile: ${e.message}`);
}

let text;
try {
  text = readFileSync(file === "-" ? 0 : file, "utf8");
} catch (e) {
  fatal(`cannot read ${name}: ${e.message}`);
}
// Compose reads YAML 1.2 with merge keys (<<), as go-yaml does.
const document = parseDocument(text, { merge: true, uniqueKeys: true });
if (document.errors.length > 0) {
  fatal(`${name}: YAML: ${document.errors[0].message}`);
}
const compose = document.toJS({ maxAliasCount: -1 });

if (validate(compose)) {
  console.log(`validate-compose: valid (${schemaName})`);
  process.exit(0);
}

// The details Ajv keeps in params that its message leaves out.
function detail({ keyword, params }) {
  if (keyword === "additionalProperties") return `: ${params.additionalProperty}`;
  if (keyword === "enum") return `: ${params.allowedValues.map((v) => JSON.stringify(v)).join(", ")}`;
  return "";
}

const errors = validate.errors;
console.error(`validate-compose: ${name} is not valid for ${schemaName} (${errors.length} error${errors.length === 1 ? "" : "s"}):`);
for (const error of errors.slice(0, MAX_ERRORS)) {
  const value = error.keyword === "type" ? ` (${JSON.stringify(valueAt(compose, error.instancePath))})` : "";
  console.error(`  ${error.instancePath || "/"}: ${error.message}${detail(error)}${value}`);
}
if (errors.length > MAX_ERRORS) console.error(`  ... and ${errors.length - MAX_ERRORS} more`);
process.exit(1);

// The value a JSON pointer such as /services/worker/ports/0 designates.
function valueAt(root, pointer) {
  return pointer
    .split("/")
    .slice(1)
    .map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"))
    .reduce((value, key) => value?.[key], root);
}
