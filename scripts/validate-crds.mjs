#!/usr/bin/env node
// Validates the custom resources of multi-document YAML files against the schemas of the operators that own
// them, offline: KEDA's keda.sh/v1alpha1 (ScaledObject, TriggerAuthentication, ...) with @kubernetes-models/keda,
// the Prometheus operator's monitoring.coreos.com/v1 (PrometheusRule, ServiceMonitor, ...) with
// @kubernetes-models/prometheus-operator, cert-manager's cert-manager.io/v1 (Certificate, Issuer) with
// @kubernetes-models/cert-manager, and Temporal's worker controller's temporal.io/v1alpha1 (WorkerDeployment,
// Connection, WorkerResourceTemplate) against the controller's own CRDs, vendored in
// validate-crds/crds/temporal-worker-controller/, and Sigstore's policy-controller's policy.sigstore.dev/v1beta1
// (ClusterImagePolicy) against its CRD in validate-crds/crds/sigstore-policy-controller/ (see their READMEs).
// Documents of any other apiVersion are counted and left alone.
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
// A CRD's openAPIV3Schema is checked with Ajv, made as strict as the API server is: every object schema that
// lists its properties refuses others (the server prunes them, or refuses them under strict field validation),
// unless it says x-kubernetes-preserve-unknown-fields; metadata is held to name, namespace, labels and annotations.
// The CRD's CEL rules (x-kubernetes-validations) are evaluated too, each by a function written here for its exact
// text (CEL_RULES): a rule this script does not know fails the check, so a newer CRD cannot pass a rule unchecked.
//
// install_validators (scripts/validators.sh) installs the packages and runs a copy of this file placed beside
// them, with the crds/ folder, since ES modules resolve packages from the importing file's folder (NODE_PATH
// does not apply).
import { existsSync, readdirSync, readFileSync } from "node:fs";
import Ajv from "ajv";
import { parseAllDocuments } from "yaml";

const GROUPS = {
  "keda.sh/v1alpha1": (kind) => import(`@kubernetes-models/keda/keda.sh/v1alpha1/${kind}`),
  "monitoring.coreos.com/v1": (kind) => import(`@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/${kind}`),
  "cert-manager.io/v1": (kind) => import(`@kubernetes-models/cert-manager/cert-manager.io/v1/${kind}`),
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

// --- Custom resource definitions (temporal.io) -------------------------------------------------------------------

// Beside the installed copy (validators.sh puts crds/ there), or in the repository (scripts/validate-crds/crds/).
const CRD_FOLDERS = [new URL("./crds/", import.meta.url), new URL("./validate-crds/crds/", import.meta.url)];
const CRD_GROUPS = new Set(["temporal.io/v1alpha1", "policy.sigstore.dev/v1beta1"]);

// Go's time.ParseDuration, which CEL's duration() follows: "30s", "1h30m", "1.5h"; NaN when it is not one.
function goDurationSeconds(text) {
  const units = { ns: 1e-9, us: 1e-6, "µs": 1e-6, "μs": 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600 };
  if (typeof text !== "string") return NaN;
  if (text === "0") return 0;
  const match = /^([-+]?)((?:(?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+)$/.exec(text);
  if (!match) return NaN;
  let seconds = 0;
  for (const [, number, unit] of match[2].matchAll(/(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/g)) seconds += Number(number) * units[unit];
  return match[1] === "-" ? -seconds : seconds;
}

const has = (value, key) => value !== null && typeof value === "object" && value[key] !== undefined;

// The CEL rules of the vendored CRDs, by their text (whitespace collapsed), as functions of self.
const CEL_RULES = {
  "duration(self.pauseDuration) >= duration('30s')": (self) => goDurationSeconds(self.pauseDuration) >= 30,
  "self.strategy != 'Progressive' || (has(self.steps) && size(self.steps) > 0)": (self) =>
    self.strategy !== "Progressive" || (Array.isArray(self.steps) && self.steps.length > 0),
  "!has(self.gate) || !has(self.gate.inputFrom) || (has(self.gate.inputFrom.configMapKeyRef) != has(self.gate.inputFrom.secretKeyRef))": (self) =>
    !has(self, "gate") || !has(self.gate, "inputFrom") || has(self.gate.inputFrom, "configMapKeyRef") !== has(self.gate.inputFrom, "secretKeyRef"),
  "size(self.metadata.name) <= 63": (self) => [...(self.metadata?.name ?? "")].length <= 63,
  "!(has(self.mutualTLSSecretRef) && has(self.apiKeySecretRef))": (self) => !(has(self, "mutualTLSSecretRef") && has(self, "apiKeySecretRef")),
  "has(self.workerDeploymentRef) || has(self.temporalWorkerDeploymentRef)": (self) =>
    has(self, "workerDeploymentRef") || has(self, "temporalWorkerDeploymentRef"),
  "!(has(self.workerDeploymentRef) && has(self.temporalWorkerDeploymentRef))": (self) =>
    !(has(self, "workerDeploymentRef") && has(self, "temporalWorkerDeploymentRef")),
};

// What the API server checks of metadata, for what the outputs write there.
const OBJECT_META = {
  type: "object",
  additionalProperties: false,
  required: ["name"],
  properties: {
    name: { type: "string", maxLength: 253, pattern: "^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$" },
    namespace: { type: "string", pattern: "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$" },
    labels: { type: "object", additionalProperties: { type: "string" } },
    annotations: { type: "object", additionalProperties: { type: "string" } },
  },
};

// The schema with unknown fields refused wherever the CRD lists an object's properties.
function strict(schema) {
  if (Array.isArray(schema)) return schema.map(strict);
  if (schema === null || typeof schema !== "object") return schema;
  const copy = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === "properties") copy[key] = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, strict(v)]));
    else if (["items", "additionalProperties", "not", "anyOf", "allOf", "oneOf"].includes(key)) copy[key] = strict(value);
    else copy[key] = value;
  }
  if (copy.properties && copy.additionalProperties === undefined && copy["x-kubernetes-preserve-unknown-fields"] !== true) {
    copy.additionalProperties = false;
  }
  return copy;
}

let crds;
function loadCrds() {
  if (crds) return crds;
  crds = new Map();
  const folder = CRD_FOLDERS.find((f) => existsSync(f));
  if (!folder) usage("no crds/ folder beside the script (scripts/validate-crds/crds/)");
  const ajv = new Ajv({ allErrors: false, strict: true, strictTypes: false, allowUnionTypes: true });
  ajv.addVocabulary(["x-kubernetes-validations", "x-kubernetes-preserve-unknown-fields", "x-kubernetes-int-or-string",
    "x-kubernetes-list-type", "x-kubernetes-list-map-keys", "x-kubernetes-map-type"]);
  const integer = (bits) => ({ type: "number", validate: (n) => Number.isInteger(n) && n >= -(2 ** (bits - 1)) && n < 2 ** (bits - 1) });
  ajv.addFormat("int32", integer(32));
  ajv.addFormat("int64", integer(64));
  ajv.addFormat("date-time", /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/);
  ajv.addFormat("byte", /^[A-Za-z0-9+/]*={0,2}$/);
  for (const entry of readdirSync(folder, { recursive: true })) {
    if (!String(entry).endsWith(".yaml")) continue;
    for (const doc of parseAllDocuments(readFileSync(new URL(String(entry), folder), "utf8"))) {
      const crd = doc.toJS();
      if (crd?.kind !== "CustomResourceDefinition") continue;
      for (const version of crd.spec.versions) {
        const schema = allowUnknownFields ? structuredClone(version.schema.openAPIV3Schema) : strict(version.schema.openAPIV3Schema);
        schema.properties.metadata = allowUnknownFields ? { ...OBJECT_META, additionalProperties: true } : OBJECT_META;
        // Every object has them; not every CRD lists them (policy-controller's does not).
        schema.properties.apiVersion ??= { type: "string" };
        schema.properties.kind ??= { type: "string" };
        schema.required = [...new Set([...(schema.required ?? []), "apiVersion", "kind", "metadata"])];
        // Compiled when a document of the kind comes (the WorkerDeployment's, with a whole pod template, takes most of a second).
        let check;
        crds.set(`${crd.spec.group}/${version.name}/${crd.spec.names.kind}`, { schema, check: (value) => (check ??= ajv.compile(schema))(value), errors: () => check.errors });
      }
    }
  }
  return crds;
}

// The first CEL rule the value breaks, walking the schema where the value has something.
function celError(schema, value, path) {
  if (value === undefined || value === null || schema === null || typeof schema !== "object") return null;
  for (const { rule, message } of schema["x-kubernetes-validations"] ?? []) {
    const text = rule.replace(/\s+/g, " ").trim();
    const check = CEL_RULES[text];
    if (!check) return `${fieldPath(path) || "(document)"}: CEL rule not implemented by validate-crds.mjs: ${text}`;
    if (!check(value)) return `${fieldPath(path) || "(document)"}: ${message ?? text}`;
  }
  if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) {
      const error = schema.items && celError(schema.items, item, [...path, String(i)]);
      if (error) return error;
    }
  } else if (typeof value === "object") {
    for (const [key, item] of Object.entries(value)) {
      const child = schema.properties?.[key] ?? (typeof schema.additionalProperties === "object" ? schema.additionalProperties : null);
      const error = child && celError(child, item, [...path, key]);
      if (error) return error;
    }
  }
  return null;
}

function validateAgainstCrd(value) {
  const crd = loadCrds().get(`${value.apiVersion}/${value.kind}`);
  if (!crd) return `kind: ${value.apiVersion} has no kind ${value.kind} in the vendored CRDs`;
  if (!crd.check(value)) {
    const first = crd.errors()[0];
    const field = fieldPath(first.instancePath.split("/").slice(1));
    if (first.keyword === "additionalProperties") return `${field ? `${field}.` : ""}${first.params.additionalProperty}: unknown field`;
    return `${field || "(document)"}: ${first.message}${first.params?.allowedValues ? ` (${first.params.allowedValues.join(", ")})` : ""}`;
  }
  return celError(crd.schema, value, []);
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
    const id = `${value.kind}/${value.metadata?.name ?? "(no name)"}`;
    if (CRD_GROUPS.has(value.apiVersion)) {
      const error = validateAgainstCrd(value);
      if (error) fail(where, `${id} (${value.apiVersion}): ${error}`);
      checked++;
      kinds.set(value.kind, (kinds.get(value.kind) ?? 0) + 1);
      continue;
    }
    const load = GROUPS[value.apiVersion];
    if (!load) continue;
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
