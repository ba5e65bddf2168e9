// The sibyl module off the page's thread: the page posts requests, this
// answers them with the embedding API (dist/sibyl-api.mjs) and forwards the
// run's events in batches, so however busy the run is the page only sees a
// few messages a second and never stalls.
//
// Requests (from runner.mjs):  { op: 'load' } | { op: 'validate', id, args }
//   | { op: 'run', args } | { op: 'cancel' }
// Answers: { op: 'ready', version } | { op: 'answer', id, result }
//   | { op: 'events', events } | { op: 'done', result } | { op: 'error', id?, message }
// One run at a time; a run request while one is going is answered with an error.
//
// serve(post) is the whole protocol, so runner.mjs can also use it in the
// page itself when a browser cannot start module workers.

const BATCH_MS = 50;   // events are posted at most this often

// What the page needs of a finished run: the files as text (for the
// downloads), the result objects without their per-trial lists (the page has
// every row from the events already; copying 10,000 parsed results across
// would stall the page's thread for a long moment), status and diagnostics.
function slim(result) {
  const { stream, outputs, ...rest } = result ?? {};
  const slimOutputs = {};
  for (const [name, out] of Object.entries(outputs ?? {})) {
    if (out && typeof out === 'object' && !Array.isArray(out)) {
      const { all_results: omitted, ...keep } = out;
      slimOutputs[name] = keep;
    } else slimOutputs[name] = out;
  }
  return { ...rest, outputs: slimOutputs, streamLength: Array.isArray(stream) ? stream.length : 0 };
}

export function serve(post) {
  let sibyl = null;
  let run = null;
  let pending = [];
  let timer = 0;
  const flush = () => {
    timer = 0;
    if (pending.length) post({ op: 'events', events: pending });
    pending = [];
  };
  const queue = (ev) => {
    pending.push(ev);
    if (!timer) timer = setTimeout(flush, BATCH_MS);
  };

  async function handle(msg) {
    switch (msg.op) {
      case 'load': {
        const { Sibyl } = await import('./dist/sibyl-api.mjs');
        sibyl = await Sibyl.load();
        post({ op: 'ready', version: sibyl.version(),
          api: { run: typeof sibyl.run === 'function', validate: typeof sibyl.validate === 'function' } });
        return;
      }
      case 'validate':
        post({ op: 'answer', id: msg.id, result: sibyl.validate(msg.args) });
        return;
      case 'run': {
        if (run) throw new Error('a run is already going');
        run = sibyl.run(msg.args);
        run.on('*', queue);
        let result;
        try {
          result = await run.done;
        } finally {
          run = null;
          clearTimeout(timer);
          flush();
        }
        post({ op: 'done', result: slim(result) });
        return;
      }
      case 'cancel':
        run?.cancel();
        return;
      default:
        throw new Error(`unknown request ${msg.op}`);
    }
  }

  return (msg) => handle(msg).catch((e) => post({ op: 'error', id: msg.id, request: msg.op, message: String(e?.message ?? e) }));
}

// Started as a module worker: answer the page.
if (typeof WorkerGlobalScope !== 'undefined' && globalThis instanceof WorkerGlobalScope) {
  const handle = serve((m) => globalThis.postMessage(m));
  globalThis.onmessage = (ev) => handle(ev.data);
}
