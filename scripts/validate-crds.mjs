#!/usr/bin/env node
// Validates the custom resources of multi-document YAML files against the schemas of the operators that own
// them, offline: KEDA's keda.sh/v1alpha1 (ScaledObject, TriggerAuthentication, ...) with @kubernetes-models/keda,
// and the Prometheus operator's monitoring.coreos.com/v1 (PrometheusRule, ServiceMonitor, ...) with
// @kubernetes-models/prometheus-operator. Documents of any other apiVersion are counted and left alone.
//
//   validate-crds.mjs [--allow-unknown-fields] [FILE... | -]      (no FILE, or "-": standard input)
//
// Prints "N of M documents checked (...)" and exits 0, or names the first invalid document (file, index,
// kind/name, field) and exits 1; 2 for a usage or YAML syntax error.
//
// The models' own validate() checks types, required fields and enums, but NOT unknown fields: their schemas
// do not say additionalProperties: false, so a misspelled field (minReplicas for minReplicaCount) passes it.
// This script adds that check, as the API server's strict field validation does: while validate() runs, it
// records which fields the schema looked up in each object; a field of an object whose schema looked up any
// field, and not that one, is unknown. Free-form objects (maps such as labels or a trigger's metadata, or
// objects without a schema) are read whole or not at all, so their keys are never reported.
//
// install_validators (scripts/validators.sh) installs the packages and runs a copy of this file placed beside
// them, since ES modules resolve packages from the importing file's folder (NODE_PATH does not apply).
import { readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";

const GROUPS = {
  "keda.sh/v1alpha1": (kind) => import(`@kubernetes-models/keda/keda.sh/v1alpha1/${kind}`),
  "monitoring.coreos.com/v1": (kind) => import(`@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/${kind}`),
};

const args = process.argv.slice(2);
const allowUnknownFields = args.includes("--allow-unknown-fields");
const files = args.filter((a) => a !== "--allow-unknown-fields");
for (const a of files) {
  if (a.startsWith("-") && a !== "-") usage(`unknown option ${a}`);
}
if (files.length === 0) files.push("-");

function usage(message) {
  console.error(`validate-crds: ${message}\nusage: validate-crds.mjs [--allow-unknown-fields] [FILE... | -]`);
  process.exit(2);
}

function fail(where, message) {
  console.error(`validate-crds: ${where}: ${message}`);
  process.exit(1);
}

// "/spec/triggers/0/type" -> "spec.triggers[0].type"
function fieldPath(segments) {
  return segments.reduce((acc, s) => (/^\d+$/.test(s) ? `${acc}[${s}]` : acc ? `${acc}.${s}` : s), "");
}

// A deep copy of a JSON value whose objects record the fields read from them.
function tracked(value, path, objects) {
  if (Array.isArray(value)) return value.map((v, i) => tracked(v, [...path, String(i)], objects));
  if (value === null || typeof value !== "object") return value;
  const target = {};
  for (const [k, v] of Object.entries(value)) target[k] = tracked(v, [...path, k], objects);
  const entry = { target, path, read: new Set(), iterated: false };
  objects.push(entry);
  return new Proxy(target, {
    get(t, key, receiver) {
      if (typeof key === "string") entry.read.add(key);
      return Reflect.get(t, key, receiver);
    },
    has(t, key) {
      if (typeof key === "string") entry.read.add(key);
      return Reflect.has(t, key);
    },
    getOwnPropertyDescriptor(t, key) {
      if (typeof key === "string") entry.read.add(key);
      return Reflect.getOwnPropertyDescriptor(t, key);
    },
    ownKeys(t) {
      entry.iterated = true;
      return Reflect.ownKeys(t);
    },
  });
}

function validate(Model, doc) {
  const objects = [];
  const data = tracked(doc, [], objects);
  try {
    Model.prototype.validate.call(data);
  } catch (e) {
    const first = e.errors?.[0];
    if (!first) return e.message;
    const field = fieldPath(first.instancePath.split("/").slice(1));
    return `${field || "(document)"}: ${first.message}${first.params?.allowedValues ? ` (${first.params.allowedValues.join(", ")})` : ""}`
      + (e.errors.length > 1 ? ` (and ${e.errors.length - 1} more: ${e.message})` : "");
  }
  if (allowUnknownFields) return null;
  for (const { target, path, read, iterated } of objects) {
    if (iterated || read.size === 0) continue;
    const unknown = Object.keys(target).filter((k) => !read.has(k));
    if (unknown.length > 0) return `${fieldPath([...path, unknown[0]])}: unknown field`;
  }
  return null;
}

let total = 0;
let checked = 0;
const kinds = new Map();
for (const file of files) {
  const name = file === "-" ? "<stdin>" : file;
  let text;
  try {
    text = readFileSync(file === "-" ? 0 : file, "utf8");
  } catch (e) {
    usage(`cannot read ${name}: ${e.message}`);
  }
  const docs = parseAllDocuments(text);
  for (const [i, doc] of docs.entries()) {
    const where = `${name} document ${i + 1}`;
    if (doc.errors.length > 0) {
      console.error(`validate-crds: ${where}: YAML: ${doc.errors[0].message}`);
      process.exit(2);
    }
    const value = doc.toJS();
    if (value === null || value === undefined) continue;
    total++;
    const load = GROUPS[value.apiVersion];
    if (!load) continue;
    const id = `${value.kind}/${value.metadata?.name ?? "(no name)"}`;
    if (typeof value.kind !== "string" || !/^[A-Z][A-Za-z0-9]*$/.test(value.kind)) fail(where, `${id}: kind: not a ${value.apiVersion} kind`);
    let Model;
    try {
      Model = (await load(value.kind))[value.kind];
    } catch {
      Model = undefined;
    }
    if (typeof Model !== "function" || Model.kind !== value.kind) fail(where, `${id}: kind: ${value.apiVersion} has no kind ${value.kind}`);
    const error = validate(Model, value);
    if (error) fail(where, `${id} (${value.apiVersion}): ${error}`);
    checked++;
    kinds.set(value.kind, (kinds.get(value.kind) ?? 0) + 1);
  }
}
const summary = [...kinds].map(([k, n]) => `${n} ${k}`).join(", ");
console.log(`validate-crds: ${checked} of ${total} documents checked${summary ? ` (${summary})` : ""}, all valid`);
