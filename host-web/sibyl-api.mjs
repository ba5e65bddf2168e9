// The JavaScript API of sibyl's web build: one small class over the
// Emscripten module (sibyl.mjs + sibyl.wasm, in this same folder), and one
// per object it hands out (Run, Watch). The contract: host-web/README.md and
// sibyl-api.d.ts.
//
//   import { Sibyl } from './sibyl-api.mjs';
//   const sibyl = await Sibyl.load();
//   const run = sibyl.run({ workspace: { file, text }, pipelines: { file, text }, pipeline, inputs, seed });
//   run.on('chunk', (ev) => ...);
//   const { status, outputs, files, stream } = await run.done;
//
// Rules this glue keeps:
// - C never calls JavaScript. C queues what the host must do (events,
//   requests to send, files) as JSON lines; this file takes them after each
//   call and acts on them. So no JS exception can unwind through C frames,
//   and listeners run outside any C call.
// - Every pointer it gets from C is freed in a `finally`.
// - Errors in the input are values (diagnostics, a failed run); only misuse
//   (wrong argument types: TypeError) and out-of-memory (RangeError) throw.
// - No DOM: the same file runs in a page, a Web Worker and Node 20+.
import createSibylModule from './sibyl.mjs';

// A virtual-clock run works in slices of about this many milliseconds, then
// yields to the event loop (a page stays responsive, timers and input run).
const SLICE_MS = 10;
// After cancel() with HTTP servers: how long the run may go on answering so
// its cancel_jobs reach the servers (the CLI's grace after Ctrl-C).
const CANCEL_GRACE_MS = 10000;
const EVENT_TYPES = ['log', 'step', 'poll', 'chunk', 'progress', 'done', '*'];

// Yields to the event loop: a macrotask, so timers, I/O and input get a turn.
// setImmediate (Node) and MessageChannel (pages, workers) are not clamped
// the way nested setTimeout(0) is (4 ms in browsers).
const yieldToLoop = (() => {
  if (typeof setImmediate === 'function') return () => new Promise((r) => setImmediate(r));
  if (typeof MessageChannel === 'function') {
    const waiting = [];
    let ch = null;
    return () => new Promise((r) => {
      if (!ch) {
        ch = new MessageChannel();
        ch.port1.onmessage = () => waiting.shift()?.();
      }
      waiting.push(r);
      ch.port2.postMessage(0);
    });
  }
  return () => new Promise((r) => setTimeout(r, 0));
})();

const now = () => Date.now();
const perfNow = typeof performance === 'object' ? () => performance.now() : () => Date.now();
const isPlainObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);

function checkDoc(name, doc, defaultFile) {
  if (!isPlainObject(doc) || typeof doc.text !== 'string')
    throw new TypeError(`${name} must be { file?: string, text: string }`);
  if (doc.file !== undefined && typeof doc.file !== 'string')
    throw new TypeError(`${name}.file must be a string`);
  return { file: doc.file ?? defaultFile, text: doc.text };
}

function checkStringMap(name, v) {
  if (v === undefined) return undefined;
  if (!isPlainObject(v) || Object.values(v).some((x) => typeof x !== 'string'))
    throw new TypeError(`${name} must be an object of strings`);
  return v;
}

function checkOneOf(name, v, allowed) {
  if (v !== undefined && !allowed.includes(v))
    throw new TypeError(`${name} must be ${allowed.map((a) => `'${a}'`).join(' or ')}, got ${JSON.stringify(v)}`);
  return v;
}

// The seed as decimal digits: a number must be a safe integer (beyond 2^53
// a number no longer names one seed), a bigint or a string of digits may go
// up to 2^64-1 (C checks the range and reports it).
function seedString(seed) {
  if (seed === undefined || seed === null) return null;
  if (typeof seed === 'number' && Number.isSafeInteger(seed) && seed >= 0) return String(seed);
  if (typeof seed === 'bigint' && seed >= 0n) return seed.toString();
  if (typeof seed === 'string' && /^[0-9]+$/.test(seed)) return seed;
  throw new TypeError(`seed must be a non-negative integer (number, bigint or digits), got ${String(seed)}`);
}

// Epoch milliseconds from a number (ms), a Date or an ISO 8601 string.
function startMs(t) {
  if (t === undefined) return Math.floor(now() / 1000) * 1000; // the CLI's default: now, whole seconds
  const ms = t instanceof Date ? t.getTime() : typeof t === 'string' ? Date.parse(t) : t;
  if (typeof ms !== 'number' || !Number.isSafeInteger(ms) || ms < 0)
    throw new TypeError(`startTime must be epoch milliseconds, a Date or an ISO 8601 time, got ${String(t)}`);
  return ms;
}

// Listeners by event type, called in order; one that throws is reported
// (a 'log' event at level ERROR, or console.error if a log listener is the
// one throwing) and the others, and the run, go on.
class Emitter {
  #listeners = new Map();
  #reporting = false;
  #types;

  constructor(types) {
    this.#types = types;
  }

  on(type, fn) {
    if (!this.#types.includes(type))
      throw new TypeError(`on(type, fn): type must be one of ${this.#types.join(', ')}, got ${JSON.stringify(type)}`);
    if (typeof fn !== 'function') throw new TypeError('on(type, fn): fn must be a function');
    let set = this.#listeners.get(type);
    if (!set) this.#listeners.set(type, (set = new Set()));
    const entry = { fn }; // a wrapper, so the same function may be added twice
    set.add(entry);
    return () => set.delete(entry);
  }

  emit(ev) {
    for (const type of [ev.type, '*']) {
      const set = this.#listeners.get(type);
      if (!set) continue;
      for (const { fn } of [...set]) {
        try {
          fn(ev);
        } catch (e) {
          this.#report(e, ev);
        }
      }
    }
  }

  #report(e, ev) {
    const message = `an event listener for '${ev.type}' threw: ${e && e.message ? e.message : String(e)}`;
    if (this.#reporting || ev.type === 'log') {
      console.error(`sibyl: ${message}`);
      return;
    }
    this.#reporting = true;
    try {
      this.emit({ type: 'log', time_ms: ev.time_ms, level: 'ERROR', message });
    } finally {
      this.#reporting = false;
    }
  }
}

// Calls fn with each string copied into C memory as [pointer, byte length]
// (null/undefined: [0, 0]); frees them all afterwards, also on a throw.
function withStrings(m, strings, fn) {
  const ptrs = [];
  try {
    const args = strings.map((s) => {
      if (s === null || s === undefined) return [0, 0];
      const len = m.lengthBytesUTF8(s);
      const p = m._sb_web_alloc(len + 1);
      if (!p) throw new RangeError('sibyl: out of memory');
      ptrs.push(p);
      m.stringToUTF8(s, p, len + 1);
      return [p, len];
    });
    return fn(...args);
  } finally {
    for (const p of ptrs) m._sb_web_free(p);
  }
}

// The messages C queued (sb_web_int.h), parsed, in order; [] when none.
function takeMessages(m, take, ptr) {
  const p = take(ptr);
  if (!p) return [];
  let text;
  try {
    text = m.UTF8ToString(p);
  } finally {
    m._sb_web_free(p);
  }
  const out = [];
  let from = 0;
  while (from < text.length) {
    let to = text.indexOf('\n', from);
    if (to < 0) to = text.length;
    const line = text.slice(from, to);
    const msg = JSON.parse(line);
    // A chunk's line of the stream file, exactly as the core wrote it: the
    // event's last member (sb_web_int.h), cut out rather than re-serialized.
    if (msg.event && msg.event.type === 'chunk') msg.line = line.slice(line.indexOf(',"chunk":') + 9, -2);
    out.push(msg);
    from = to + 1;
  }
  return out;
}

// A promise that resolves after ms (Infinity: never by itself) or when the
// returned wake() is called, whichever comes first.
function sleeper(ms) {
  let wake;
  const p = new Promise((resolve) => {
    let timer = null;
    wake = () => {
      if (timer !== null) clearTimeout(timer);
      resolve();
    };
    if (ms !== Infinity) timer = setTimeout(wake, Math.min(Math.max(0, Math.ceil(ms)), 0x7fffffff));
  });
  return [p, wake];
}

// One HTTP request for an MCP server, as the core asked for it (sb_run.h's
// sb_run_request). Resolves with the answer; never rejects: a transport
// failure is status 0 with the reason, naming the URL, as the CLI reports it.
async function mcpFetch(server, req, extraHeaders, signal) {
  const url = server && server.url;
  if (!url) return { status: 0, body: `server '${req.server}' has no URL (give one in the run option servers)` };
  const headers = { ...(server.headers || {}), ...(extraHeaders || {}) };
  if (req.accept) headers['Accept'] = req.accept;
  if (req.content_type) headers['Content-Type'] = req.content_type;
  if (req.session_id) headers['Mcp-Session-Id'] = req.session_id;
  if (req.protocol_version) headers['MCP-Protocol-Version'] = req.protocol_version;
  if (req.last_event_id) headers['Last-Event-ID'] = req.last_event_id;
  const timeout = new AbortController();
  const timer = setTimeout(() => timeout.abort(), server.timeout_ms || 30000);
  const onAbort = () => timeout.abort();
  signal.addEventListener('abort', onAbort);
  try {
    const res = await fetch(url, { method: req.method || 'POST', headers, body: req.body, signal: timeout.signal });
    // An SSE answer is read to its end: the core's MCP client takes the
    // stream whole (it resumes with Last-Event-ID if the stream breaks).
    const body = await res.text();
    return { status: res.status, contentType: res.headers.get('content-type'),
             sessionId: res.headers.get('mcp-session-id'), body };
  } catch (e) {
    const why = timeout.signal.aborted && !signal.aborted ? `timed out after ${server.timeout_ms} ms`
              : (e && e.cause && e.cause.message) || (e && e.message) || String(e);
    return { status: 0, body: `${url}: ${why}` };
  } finally {
    clearTimeout(timer);
    signal.removeEventListener('abort', onAbort);
  }
}

// Starts the fetch for one "send" message (waiting for its not_before_ms
// first) and hands the answer, with the request's id, to done.
function sendLater(req, servers, headers, signal, done) {
  const go = () => mcpFetch(servers[req.server], req, headers, signal).then((a) => done({ id: req.id, ...a }));
  const wait = req.not_before_ms ? req.not_before_ms - now() : 0;
  if (wait > 0) setTimeout(go, wait);
  else go();
}

// One pipeline run (sb_web_run.h). Made by Sibyl.run().
class Run {
  #m;
  #emitter = new Emitter(EVENT_TYPES);
  #o;
  #ptr = 0;
  #info = null;           // the "start" message: files, servers, seed
  #files = {};
  #stream = [];
  #lines = [];            // the stream file's lines
  #diagnostics = [];
  #result = null;         // the "done" message, when it came
  #answers = [];          // fetch answers waiting to go to C
  #inflight = 0;
  #abort = new AbortController();
  #cancelReason = null;
  #wake = null;
  /** Resolves when the run is over: { status, exit_code, error?, outputs, files, stream, diagnostics }. */
  done;

  constructor(m, o) {
    this.#m = m;
    this.#o = o;
    this.done = this.#drive();
  }

  on(type, fn) {
    return this.#emitter.on(type, fn);
  }

  // As Ctrl-C: pending timers are dropped, submitted jobs cancelled, partial
  // outputs written. Calling it again, or after the end, does nothing.
  cancel(reason = 'cancelled') {
    if (typeof reason !== 'string') throw new TypeError('cancel(reason): reason must be a string');
    if (this.#cancelReason === null && !this.#result) {
      this.#cancelReason = reason;
      this.#wake?.();
    }
  }

  async #drive() {
    await null; // the caller attaches listeners first: nothing is delivered before
    const m = this.#m, o = this.#o;
    this.#ptr = withStrings(m, [o.workspace.file, o.workspace.text, o.pipelines.file, o.pipelines.text, o.json],
      (wf, wt, pf, pt, opts) => m._sb_web_run_new(wf[0], wt[0], wt[1], pf[0], pt[0], pt[1], opts[0], opts[1]));
    if (!this.#ptr) throw new RangeError('sibyl: out of memory');
    try {
      this.#take();
      if (!this.#result) await (m._sb_web_run_virtual(this.#ptr) ? this.#loopVirtual() : this.#loopReal());
      // Over, but its "done" could not be queued (the module ran out of memory).
      if (!this.#result)
        this.#onDone({ status: 'failed', exit_code: 3, error: 'out of memory in the module', time_ms: this.#o.c.start_ms });
    } finally {
      this.#abort.abort(); // fetches still out (a cancel whose grace ran out)
      m._sb_web_run_free(this.#ptr);
      this.#ptr = 0;
    }
    return this.#result;
  }

  // Virtual clock: slices of C work of about SLICE_MS, the number of steps
  // per slice adapted to what the last slice took, then a yield.
  async #loopVirtual() {
    const m = this.#m;
    let steps = 1;
    for (;;) {
      if (this.#cancelReason !== null && !this.#cancelSent()) continue;
      const t0 = perfNow();
      const state = m._sb_web_run_advance(this.#ptr, 0, steps);
      // A long slice of C work (one big answer: planning a 10,000-trial
      // grid) is not followed at once by the JS work of its messages.
      const c = perfNow() - t0;
      if (c > SLICE_MS) await yieldToLoop();
      const t1 = perfNow();
      this.#take();
      if (state === 0 || this.#result) return;
      const dt = c + perfNow() - t1;
      if (dt < SLICE_MS / 2 && steps < 1 << 20) steps *= 2;
      else if (dt > SLICE_MS * 2 && steps > 1) steps = Math.max(1, steps >> 1);
      await yieldToLoop();
    }
  }

  // Sends the cancel to C once; false the first time (the caller goes round
  // again to see the consequences).
  #cancelSent() {
    if (this.#cancelledAt !== undefined) return true;
    this.#cancelledAt = now();
    const m = this.#m;
    withStrings(m, [this.#cancelReason], (r) => m._sb_web_run_cancel(this.#ptr, r[0], this.#clock()));
    this.#take();
    return false;
  }
  #cancelledAt = undefined;

  #clockStart = now();
  #clock() {
    const scale = this.#o.timeScale ?? 1;
    return this.#o.c.start_ms + (now() - this.#clockStart) * scale;
  }

  // Real clock (embedded, maybe scaled, or HTTP servers): answers as they
  // arrive, timers when due; sleeps in between.
  async #loopReal() {
    const m = this.#m;
    const scale = this.#o.timeScale ?? 1;
    for (;;) {
      while (this.#answers.length && !this.#result) {
        const a = this.#answers.shift();
        this.#respond(a);
      }
      if (this.#result) return;
      if (this.#cancelReason !== null && !this.#cancelSent()) continue;
      if (this.#cancelledAt !== undefined && now() - this.#cancelledAt > CANCEL_GRACE_MS) {
        // The servers did not answer in time; the result file written at the
        // cancel stands (sb_run_cancel).
        this.#finishUnanswered();
        return;
      }
      const state = m._sb_web_run_advance(this.#ptr, this.#clock(), 0);
      this.#take();
      if (state === 0 || this.#result) return;
      if (this.#answers.length) continue;
      const next = m._sb_web_run_next_deadline(this.#ptr);
      let wait = next < 0 ? Infinity : (next - this.#clock()) / scale;
      if (this.#cancelledAt !== undefined) wait = Math.min(wait, this.#cancelledAt + CANCEL_GRACE_MS - now() + 1);
      await this.#sleep(Math.max(0, wait));
    }
  }

  #sleep(ms) {
    const [p, wake] = sleeper(ms);
    this.#wake = wake;
    return p.then(() => { this.#wake = null; });
  }

  #respond(a) {
    const m = this.#m;
    withStrings(m, [a.contentType, a.sessionId, a.body ?? ''], (ct, sid, body) =>
      m._sb_web_run_on_response(this.#ptr, a.id, a.status, ct[0], sid[0], body[0], body[1], this.#clock()));
    this.#take();
  }

  #send(req) {
    this.#inflight++;
    sendLater(req, this.#info ? this.#info.servers : {}, this.#o.headers, this.#abort.signal, (a) => {
      this.#inflight--;
      if (!this.#ptr || this.#result) return;
      this.#answers.push(a);
      this.#wake?.();
    });
  }

  #finishUnanswered() {
    const error = `cancelled; ${this.#inflight} request(s) still unanswered after ${CANCEL_GRACE_MS / 1000} s`;
    this.#onDone({ status: 'cancelled', exit_code: 3, error, time_ms: Math.round(this.#clock()) });
  }

  // Takes C's queued messages and acts on them, in order.
  #take() {
    for (const msg of takeMessages(this.#m, this.#m._sb_web_run_take, this.#ptr)) {
      if (msg.event) {
        if (msg.event.type === 'chunk') {
          this.#stream.push(msg.event.chunk);
          this.#lines.push(msg.line);
        }
        this.#emitter.emit(msg.event);
      } else if (msg.send) this.#send(msg.send);
      else if (msg.file) this.#files[msg.file.name] = this.#m.UTF8ToString(this.#m._sb_web_run_file(this.#ptr, msg.file.slot));
      else if (msg.start) this.#info = msg.start;
      else if (msg.diagnostics) {
        this.#diagnostics = msg.diagnostics;
        for (const d of msg.diagnostics)
          this.#emitter.emit({ type: 'log', time_ms: this.#o.c.start_ms, level: 'ERROR', message: d.text });
      } else if (msg.done) this.#onDone(msg.done);
    }
  }

  #onDone(d) {
    if (this.#result) return;
    const sf = this.#info && this.#info.stream_file;
    if (sf) this.#files[sf] = this.#lines.length ? this.#lines.join('\n') + '\n' : '';
    // Parsed when first read: a 10,000-trial result is megabytes, and the
    // caller may want only the stream or the text.
    const outputs = {}, files = { ...this.#files };
    for (const name of Object.keys(files)) {
      if (!name.endsWith('.json')) continue;
      let value;
      Object.defineProperty(outputs, name, {
        enumerable: true,
        get() {
          if (value === undefined) {
            try {
              value = JSON.parse(files[name]);
            } catch {
              value = null; // not JSON after all: the text is in files
            }
          }
          return value;
        },
      });
    }
    this.#result = { status: d.status, exit_code: d.exit_code, ...(d.error ? { error: d.error } : {}), outputs,
                     files, stream: this.#stream, diagnostics: this.#diagnostics,
                     seed: this.#info ? this.#info.seed : null };
    const ev = { type: 'done', time_ms: d.time_ms, status: d.status, exit_code: d.exit_code };
    if (d.error) ev.error = d.error;
    this.#emitter.emit(ev);
  }
}

// Following a job handle someone else started (sb_web_watch.h). Made by
// Sibyl.watchHandle().
class Watch {
  #m;
  #emitter = new Emitter(['log', 'chunk', 'progress', 'poll', 'done', '*']);
  #o;
  #ptr = 0;
  #info = null;
  #result = null;
  #answers = [];
  #stream = [];
  #polling = false;
  #changed = 0;
  #stopped = false;
  #wake = null;
  #abort = new AbortController();
  /** Resolves when the watch ends: { status, exit_code, error?, stream, diagnostics }. */
  done;

  constructor(m, o) {
    this.#m = m;
    this.#o = o;
    this.done = this.#drive();
  }

  on(type, fn) {
    return this.#emitter.on(type, fn);
  }

  // Stops watching (the jobs go on: they are not this watcher's).
  stop() {
    this.#stopped = true;
    this.#wake?.();
  }

  async #drive() {
    await null;
    const m = this.#m, o = this.#o;
    this.#ptr = withStrings(m, [o.handle, o.workspace.file, o.workspace.text, o.servers], (h, wf, wt, sv) =>
      m._sb_web_watch_new(h[0], h[1], wf[0], wt[0], wt[1], sv[0], sv[1], now()));
    if (!this.#ptr) throw new RangeError('sibyl: out of memory');
    try {
      this.#take();
      const p = this.#info ? this.#info.polling : {};
      const first = p.initial_delay_ms ?? 2000, max = p.max_delay_ms ?? 10000, mult = p.multiplier ?? 1.5;
      let delay = first;
      while (!this.#result) {
        if (this.#stopped) {
          m._sb_web_watch_stop(this.#ptr, now());
          this.#take();
          break;
        }
        while (this.#answers.length && !this.#result) this.#respond(this.#answers.shift());
        if (this.#result) break;
        if (!this.#polling) {
          this.#polling = m._sb_web_watch_poll(this.#ptr, now()) === 1;
          this.#take();
          // no poll could start (the module is out of memory): try later
          if (!this.#polling && !this.#result) await this.#sleep(delay);
          continue;
        }
        if (this.#pollDone) {
          // between polls: the workspace's backoff, back to the first delay
          // when a job finished
          this.#pollDone = false;
          delay = this.#changed > 0 ? first : Math.min(delay * mult, max);
          await this.#sleep(delay);
          this.#polling = false;
          continue;
        }
        await this.#sleep(Infinity); // an answer or stop() wakes it
      }
    } finally {
      this.#abort.abort();
      m._sb_web_watch_free(this.#ptr);
      this.#ptr = 0;
    }
    return this.#result;
  }
  #pollDone = false;

  #sleep(ms) {
    const [p, wake] = sleeper(ms);
    this.#wake = wake;
    return p.then(() => { this.#wake = null; });
  }

  #respond(a) {
    const m = this.#m;
    withStrings(m, [a.contentType, a.sessionId, a.body ?? ''], (ct, sid, body) =>
      m._sb_web_watch_on_response(this.#ptr, a.id, a.status, ct[0], sid[0], body[0], body[1], now()));
    this.#take();
  }

  #take() {
    for (const msg of takeMessages(this.#m, this.#m._sb_web_watch_take, this.#ptr)) {
      if (msg.event) {
        if (msg.event.type === 'chunk') this.#stream.push(msg.event.chunk);
        if (msg.event.type === 'poll') {
          this.#pollDone = true;
          this.#changed = msg.event.changed;
        }
        this.#emitter.emit(msg.event);
      } else if (msg.send) {
        const servers = this.#info ? this.#info.servers : {};
        sendLater(msg.send, servers, this.#o.headers, this.#abort.signal, (a) => {
          if (!this.#ptr || this.#result) return;
          this.#answers.push(a);
          this.#wake?.();
        });
      } else if (msg.start) this.#info = msg.start;
      else if (msg.diagnostics) {
        this.#diagnostics = msg.diagnostics;
        for (const d of msg.diagnostics) this.#emitter.emit({ type: 'log', time_ms: now(), level: 'ERROR', message: d.text });
      } else if (msg.done) {
        const d = msg.done;
        this.#result = { status: d.status, exit_code: d.exit_code, ...(d.error ? { error: d.error } : {}),
                         stream: this.#stream, diagnostics: this.#diagnostics };
        this.#emitter.emit({ type: 'done', ...d });
      }
    }
  }
  #diagnostics = [];
}

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

  // Checks a workspace and a pipelines file together, as `sibyl workspace
  // validate` and `sibyl pipeline validate` do. Returns
  //   { ok, diagnostics: [{ file, line, col, message, text }],
  //     pipelines: [{ name, description?, inputs: [{ name, type, default?, description?, ... }],
  //                   steps: [{ name, kind, needs: [], on?, description? }] }] }
  // (pipelines is empty unless the pipelines file is valid).
  validate(options) {
    if (!isPlainObject(options)) throw new TypeError('validate(options): options must be { workspace, pipelines }');
    const ws = checkDoc('validate(options): workspace', options.workspace, 'workspace.yaml');
    const pl = checkDoc('validate(options): pipelines', options.pipelines, 'pipelines.yaml');
    const m = this.#m;
    const ptrs = [];
    let out = 0;
    try {
      const c = (s) => {
        const len = m.lengthBytesUTF8(s);
        ptrs.push(this.#cstring(s, len));
        return [ptrs[ptrs.length - 1], len];
      };
      const [wf] = c(ws.file), [wt, wl] = c(ws.text), [pf] = c(pl.file), [pt, pll] = c(pl.text);
      out = m._sb_web_validate(wf, wt, wl, pf, pt, pll);
      if (!out) throw new RangeError('sibyl: out of memory in validate');
      return JSON.parse(m.UTF8ToString(out));
    } finally {
      m._sb_web_free(out);
      for (const p of ptrs) m._sb_web_free(p);
    }
  }

  // Runs a pipeline as `sibyl pipeline run` does. Options (sibyl-api.d.ts):
  //   workspace, pipelines: { file?, text }   pipeline: name
  //   inputs: { name: value }   seed   mode: 'embedded' | 'servers'
  //   clock: 'virtual' | 'real'   timeScale (real clock, embedded)   startTime
  //   servers: { name: url }   headers: { name: value }
  // Returns a Run at once; listeners added before the next await see every event.
  run(options) {
    if (!isPlainObject(options)) throw new TypeError('run(options): options must be an object');
    const workspace = checkDoc('run(options): workspace', options.workspace, 'workspace.yaml');
    const pipelines = checkDoc('run(options): pipelines', options.pipelines, 'pipelines.yaml');
    if (typeof options.pipeline !== 'string' || !options.pipeline)
      throw new TypeError('run(options): pipeline must be the name of a pipeline');
    if (options.inputs !== undefined && !isPlainObject(options.inputs))
      throw new TypeError('run(options): inputs must be an object of input values');
    const mode = checkOneOf('run(options): mode', options.mode, ['embedded', 'servers']);
    const clock = checkOneOf('run(options): clock', options.clock, ['virtual', 'real']);
    if (clock === 'virtual' && mode === 'servers')
      throw new TypeError("run(options): clock 'virtual' needs embedded services (a remote server runs on the real clock)");
    const servers = checkStringMap('run(options): servers', options.servers);
    const headers = checkStringMap('run(options): headers', options.headers);
    const ts = options.timeScale;
    if (ts !== undefined && (typeof ts !== 'number' || !(ts >= 1e-3 && ts <= 1e9) || clock !== 'real'))
      throw new TypeError('run(options): timeScale is a number from 0.001 to 1e9, with clock: \'real\'');
    const c = {
      pipeline: options.pipeline, inputs: options.inputs ?? null, seed: seedString(options.seed),
      mode: mode ?? null, clock: clock ?? null, servers: servers ?? null,
      start_ms: startMs(options.startTime),
    };
    let json;
    try {
      json = JSON.stringify(c);
    } catch (e) {
      throw new TypeError(`run(options): inputs must be JSON values (${e.message})`);
    }
    return new Run(this.#m, { workspace, pipelines, c, json, headers, timeScale: ts });
  }

  // Follows a job handle someone else started (a PollableJobHandle, as a
  // call step with `handle:` produces it; an object or its JSON text) on the
  // workspace's server of that name, over fetch. Options: handle, workspace,
  // servers?: { name: url }, headers?. Polls with the workspace's backoff.
  watchHandle(options) {
    if (!isPlainObject(options)) throw new TypeError('watchHandle(options): options must be an object');
    const h = options.handle;
    if (!isPlainObject(h) && typeof h !== 'string')
      throw new TypeError('watchHandle(options): handle must be a PollableJobHandle object or its JSON text');
    const workspace = checkDoc('watchHandle(options): workspace', options.workspace, 'workspace.yaml');
    const servers = checkStringMap('watchHandle(options): servers', options.servers);
    const headers = checkStringMap('watchHandle(options): headers', options.headers);
    return new Watch(this.#m, { handle: typeof h === 'string' ? h : JSON.stringify(h), workspace,
                                servers: servers ? JSON.stringify(servers) : null, headers });
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
