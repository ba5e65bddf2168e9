// A small JSON Schema validator for the subset sibyl's published schemas use,
// so the example configs can be checked against schemas/*.schema.json the way
// an editor would, without third-party code.
//
//   node jsonschema-check.mjs [--yaml2json TOOL] [--mutations] SCHEMA DOC...
//
// DOC is JSON, or YAML when --yaml2json names the converter (tests/config/
// yaml2json.c: sibyl's own loader). Every DOC must validate. With
// --mutations, each DOC is also broken in ways the schema must catch (an
// unknown key, a wrong type, a missing required key...) and each broken copy
// must be rejected, which shows the validator and the schema really check.
// Exit 0 when all is as expected, 1 otherwise, 2 on a usage error.
//
// Supported keywords: type, properties, additionalProperties, required,
// items, enum, minimum, maximum, minLength, minItems, minProperties, pattern,
// propertyNames, anyOf, allOf, oneOf, $ref (#/$defs/...). Annotations
// ($schema, $id, $defs, title, description) are ignored; any other keyword is
// an error, so the schema cannot silently use something left unchecked.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";

const ANNOTATIONS = new Set(["$schema", "$id", "$defs", "title", "description", "default"]);

function typeOf(v) {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  return typeof v; // "object", "string", "number", "boolean"
}

function hasType(v, t) {
  switch (t) {
    case "integer": return typeof v === "number" && Number.isInteger(v);
    case "number": return typeof v === "number";
    default: return typeOf(v) === t;
  }
}

function equal(a, b) {
  if (typeOf(a) !== typeOf(b)) return false;
  if (Array.isArray(a)) return a.length === b.length && a.every((x, i) => equal(x, b[i]));
  if (typeOf(a) === "object") {
    const ka = Object.keys(a), kb = Object.keys(b);
    return ka.length === kb.length && ka.every((k) => k in b && equal(a[k], b[k]));
  }
  return a === b;
}

const ptr = (path) => (path.length ? "/" + path.map((p) => String(p).replace(/~/g, "~0").replace(/\//g, "~1")).join("/") : "(root)");

export class Validator {
  constructor(root) {
    this.root = root;
  }

  resolve(ref) {
    const m = /^#\/\$defs\/([^/]+)$/.exec(ref);
    if (!m || !this.root.$defs || !(m[1] in this.root.$defs)) throw new Error(`unsupported or unknown $ref ${ref}`);
    return this.root.$defs[m[1]];
  }

  // Returns a list of "path: message" strings; empty when v is valid.
  validate(s, v, path = []) {
    const errs = [];
    const err = (msg) => errs.push(`${ptr(path)}: ${msg}`);
    if (s === true) return errs;
    if (s === false) return [`${ptr(path)}: no value is allowed here`];
    for (const key of Object.keys(s)) {
      if (ANNOTATIONS.has(key)) continue;
      const x = s[key];
      switch (key) {
        case "$ref":
          errs.push(...this.validate(this.resolve(x), v, path));
          break;
        case "type": {
          const types = Array.isArray(x) ? x : [x];
          if (!types.some((t) => hasType(v, t))) err(`expected ${types.join(" or ")}, found ${typeOf(v)}`);
          break;
        }
        case "enum":
          if (!x.some((e) => equal(e, v))) err(`expected one of ${JSON.stringify(x)}, found ${JSON.stringify(v)}`);
          break;
        case "minimum":
          if (typeof v === "number" && v < x) err(`${v} is less than ${x}`);
          break;
        case "maximum":
          if (typeof v === "number" && v > x) err(`${v} is more than ${x}`);
          break;
        case "minLength":
          if (typeof v === "string" && [...v].length < x) err(`shorter than ${x}`);
          break;
        case "pattern":
          if (typeof v === "string" && !new RegExp(x, "u").test(v)) err(`${JSON.stringify(v)} does not match ${x}`);
          break;
        case "minItems":
          if (Array.isArray(v) && v.length < x) err(`fewer than ${x} items`);
          break;
        case "items":
          if (Array.isArray(v)) v.forEach((item, i) => errs.push(...this.validate(x, item, [...path, i])));
          break;
        case "minProperties":
          if (typeOf(v) === "object" && Object.keys(v).length < x) err(`fewer than ${x} properties`);
          break;
        case "required":
          if (typeOf(v) === "object") for (const k of x) if (!(k in v)) err(`missing required property "${k}"`);
          break;
        case "properties":
          if (typeOf(v) === "object")
            for (const [k, sub] of Object.entries(x)) if (k in v) errs.push(...this.validate(sub, v[k], [...path, k]));
          break;
        case "additionalProperties":
          if (typeOf(v) === "object") {
            const known = s.properties || {};
            for (const k of Object.keys(v)) {
              if (k in known) continue;
              if (x === false) err(`unknown property "${k}"`);
              else errs.push(...this.validate(x, v[k], [...path, k]));
            }
          }
          break;
        case "propertyNames":
          if (typeOf(v) === "object") for (const k of Object.keys(v)) errs.push(...this.validate(x, k, [...path, k]));
          break;
        case "allOf":
          for (const sub of x) errs.push(...this.validate(sub, v, path));
          break;
        case "anyOf": {
          const results = x.map((sub) => this.validate(sub, v, path));
          if (!results.some((r) => r.length === 0))
            err(`matches none of ${x.length} alternatives (${results.map((r) => r[0]).join("; ")})`);
          break;
        }
        case "oneOf": {
          const n = x.filter((sub) => this.validate(sub, v, path).length === 0).length;
          if (n !== 1) err(`matches ${n} of the oneOf alternatives, expected exactly 1`);
          break;
        }
        default:
          throw new Error(`unsupported keyword "${key}" at schema for ${ptr(path)}`);
      }
    }
    return errs;
  }
}

// Ways to break a document that the schema must catch. Each returns the
// broken copy, or null when it does not apply to this document.
const MUTATIONS = [
  ["unknown top-level key", (d) => ({ ...d, colour: "red" })],
  ["version removed", (d) => { const c = { ...d }; delete c.version; return c; }],
  ["version 2", (d) => ({ ...d, version: 2 })],
  ["version as a string", (d) => ({ ...d, version: "1" })],
  ["servers empty", (d) => (d.servers ? { ...d, servers: {} } : null)],
  ["server name with a dash", (d) => (d.servers ? { ...d, servers: { ...d.servers, "my-server": { transport: "embedded", service: "solver" } } } : null)],
  ["unknown transport", (d) => (d.servers ? { ...d, servers: { x: { transport: "carrier-pigeon" } } } : null)],
  ["polling.multiplier below 1", (d) => (d.polling ? { ...d, polling: { ...d.polling, multiplier: 0.5 } } : null)],
  ["polling.jitter unknown", (d) => (d.polling ? { ...d, polling: { ...d.polling, jitter: "random" } } : null)],
  ["cost_model without gpu_hour_usd", (d) => { if (!d.cost_model) return null; const c = { ...d.cost_model }; delete c.gpu_hour_usd; return { ...d, cost_model: c }; }],
  ["streaming.enabled as a string", (d) => (d.streaming ? { ...d, streaming: { ...d.streaming, enabled: "yes" } } : null)],
  ["pipelines empty", (d) => (d.pipelines ? { ...d, pipelines: {} } : null)],
  ...["steps removed", "step with two kinds", "step with no kind", "unknown step key", "when as a string",
      "needs not a list", "retry.max_attempts 0", "input of an unknown type", "step name with a space",
      "select.index negative", "aggregate.direction unknown"].map((name) => [name, (d) => breakFirstPipeline(d, name)]),
];

function breakFirstPipeline(d, how) {
  if (!d.pipelines) return null;
  const c = structuredClone(d);
  const p = Object.values(c.pipelines)[0];
  const steps = p.steps;
  const first = Object.values(steps)[0];
  const find = (k) => Object.values(steps).find((s) => k in s);
  switch (how) {
    case "steps removed": delete p.steps; break;
    case "step with two kinds": first.compute = { x: 1 }; break;
    case "step with no kind": steps.idle = { description: "does nothing" }; break;
    case "unknown step key": first.colour = "red"; break;
    case "when as a string": first.when = "true"; break;
    case "needs not a list": first.needs = "a"; break;
    case "retry.max_attempts 0": { const s = find("retry"); if (!s) return null; s.retry.max_attempts = 0; break; }
    case "input of an unknown type": if (!p.inputs) return null; Object.values(p.inputs)[0].type = "dict"; break;
    case "step name with a space": steps["two words"] = { compute: { x: 1 } }; break;
    case "select.index negative": { const s = find("select"); if (!s) return null; s.select.index = -1; break; }
    case "aggregate.direction unknown": { const s = find("aggregate"); if (!s) return null; s.aggregate.direction = "up"; break; }
  }
  return c;
}

// What the shared expression definition must accept and reject: the same
// strings the C validator takes for an expression (a {{ }} anywhere, across
// lines too) and not a bare condition.
function checkExpressionDef(v) {
  const ref = { $ref: "#/$defs/expression" };
  const cases = [["{{ x }}", true], ["{{ a and\n  b }}", true], ["lr={{ x }} bs={{ y }}", true],
                 ["x > 2", false], ["{ x }", false], [3, false]];
  let bad = 0;
  for (const [s, ok] of cases) {
    if ((v.validate(ref, s).length === 0) !== ok) {
      bad++;
      console.error(`$defs/expression ${ok ? "rejects" : "accepts"} ${JSON.stringify(s)}`);
    }
  }
  return bad;
}

function load(file, yaml2json) {
  if (/\.ya?ml$/.test(file)) {
    if (!yaml2json) throw new Error(`${file}: YAML needs --yaml2json TOOL`);
    return JSON.parse(execFileSync(yaml2json, [file], { encoding: "utf8" }));
  }
  return JSON.parse(readFileSync(file, "utf8"));
}

function main(argv) {
  let yaml2json = null, mutations = false;
  const files = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--yaml2json") yaml2json = argv[++i];
    else if (argv[i] === "--mutations") mutations = true;
    else files.push(argv[i]);
  }
  if (files.length < 2) {
    console.error("usage: node jsonschema-check.mjs [--yaml2json TOOL] [--mutations] SCHEMA DOC...");
    return 2;
  }
  const schema = JSON.parse(readFileSync(files[0], "utf8"));
  const v = new Validator(schema);
  let failed = mutations ? checkExpressionDef(v) : 0;
  for (const file of files.slice(1)) {
    const doc = load(file, yaml2json);
    const errs = v.validate(schema, doc);
    if (errs.length) {
      failed++;
      console.error(`${file}: does not match ${files[0]}:`);
      for (const e of errs) console.error(`  ${e}`);
    } else {
      console.log(`ok ${file} matches ${files[0]}`);
    }
    // A broken copy only proves something when the original passes.
    if (!mutations || errs.length) continue;
    let applied = 0;
    for (const [name, mutate] of MUTATIONS) {
      const broken = mutate(doc);
      if (broken === null) continue;
      applied++;
      const e = v.validate(schema, broken);
      if (e.length === 0) {
        failed++;
        console.error(`${file}: broken copy accepted: ${name}`);
      } else {
        console.log(`ok rejected (${name}): ${e[0]}`);
      }
    }
    if (applied < 8) {
      failed++;
      console.error(`${file}: only ${applied} mutations applied; is this the right kind of document?`);
    }
  }
  return failed ? 1 : 0;
}

process.exitCode = main(process.argv.slice(2));
