// The JavaScript API of sibyl's web build: one small class over the
// Emscripten module (sibyl.mjs + sibyl.wasm, in this same folder).
//
//   import { Sibyl } from './sibyl-api.mjs';
//   const sibyl = await Sibyl.load();
//   sibyl.version();                       // "0.1.0"
//   sibyl.loadYaml('any.yaml', text)       // { ok, value, diagnostics }
//   sibyl.validateWorkspace('workspace.yaml', text) // same shape
//
// Rules this glue keeps: every pointer it gets from C is freed in a
// `finally`; C never calls back into JS here, and when it does later (fetch
// completions) those callbacks will catch their own errors, so a JS
// exception never unwinds through C frames. Errors are reported as values
// (diagnostics); only misuse (wrong argument types) and out-of-memory throw.
import createSibylModule from './sibyl.mjs';

export class Sibyl {
  #m;

  constructor(module) {
    this.#m = module;
  }

  // options: passed to the Emscripten factory (e.g. { locateFile } or
  // { wasmBinary } when sibyl.wasm is served from somewhere else).
  static async load(options = {}) {
    return new Sibyl(await createSibylModule({ ...options }));
  }

  // The sibyl version this module was built from, e.g. "0.1.0".
  version() {
    return this.#m.UTF8ToString(this.#m._sb_web_version());
  }

  // Parses YAML text with the same loader as the terminal front end (syntax
  // and the loader's rules: no anchors, no duplicate keys, ...; no schema).
  // Returns { ok: true, value, diagnostics: [] } or
  //         { ok: false, value: null, diagnostics: [{ file, line, col, message, text }] }
  // where text is the line the terminal front end would print.
  loadYaml(file, text) {
    return this.#load('_sb_web_yaml_to_json', 'loadYaml', file, text);
  }

  // Checks a workspace.yaml exactly as `sibyl workspace validate` does (YAML,
  // schema, server settings). Same result shape as loadYaml; value is the
  // workspace tree.
  validateWorkspace(file, text) {
    return this.#load('_sb_web_workspace_to_json', 'validateWorkspace', file, text);
  }

  #load(fn, name, file, text) {
    if (typeof file !== 'string' || typeof text !== 'string')
      throw new TypeError(`${name}(file, text): both arguments must be strings`);
    const m = this.#m;
    let filePtr = 0, textPtr = 0, outPtr = 0;
    try {
      filePtr = this.#cstring(file);
      const textLen = m.lengthBytesUTF8(text);
      textPtr = this.#cstring(text, textLen);
      outPtr = m[fn](filePtr, textPtr, textLen);
      if (!outPtr) throw new RangeError(`sibyl: out of memory in ${name}`);
      const out = JSON.parse(m.UTF8ToString(outPtr));
      if ('value' in out) return { ok: true, value: out.value, diagnostics: [] };
      return { ok: false, value: null, diagnostics: out.diagnostics };
    } finally {
      // sb_web_free(NULL) is a no-op, so partial failures are safe.
      m._sb_web_free(outPtr);
      m._sb_web_free(textPtr);
      m._sb_web_free(filePtr);
    }
  }

  // Copies a JS string into C memory as NUL-terminated UTF-8 (the NUL is
  // extra: C is also given the byte length, so NULs inside still count).
  #cstring(s, len = this.#m.lengthBytesUTF8(s)) {
    const p = this.#m._sb_web_alloc(len + 1);
    if (!p) throw new RangeError('sibyl: out of memory');
    this.#m.stringToUTF8(s, p, len + 1);
    return p;
  }
}
