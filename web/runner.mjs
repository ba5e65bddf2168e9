// The page's side of worker.mjs: one object with promises for load and
// validation and callbacks for a run's events. Falls back to serving the
// requests in the page when a module worker cannot start (the API yields
// to the event loop between slices, so the page still stays responsive).

export class Runner {
  #send;
  #answers = new Map();
  #nextId = 1;
  #ready;
  onEvents = () => {};
  onDone = () => {};
  onError = () => {};
  inWorker = true;
  api = {};              // what the module offers ({ run, validate }), from 'ready'

  constructor() {
    this.#ready = new Promise((resolve, reject) => {
      const receive = (m) => this.#receive(m, resolve, reject);
      let worker;
      try {
        worker = new Worker(new URL('./worker.mjs', import.meta.url), { type: 'module' });
      } catch {
        worker = null;
      }
      if (worker) {
        worker.onmessage = (ev) => receive(ev.data);
        // A worker that fails to start (module error) reports here, once.
        worker.onerror = (ev) => {
          ev.preventDefault();
          worker.terminate();
          this.#inPage(receive);
        };
        this.#send = (m) => worker.postMessage(m);
        this.#send({ op: 'load' });
      } else {
        this.#inPage(receive);
      }
    });
  }

  async #inPage(receive) {
    this.inWorker = false;
    const { serve } = await import('./worker.mjs');
    const handle = serve((m) => queueMicrotask(() => receive(m)));
    this.#send = (m) => handle(structuredClone(m));
    this.#send({ op: 'load' });
  }

  #receive(m, resolve, reject) {
    switch (m.op) {
      case 'ready': resolve(m); break;
      case 'answer': this.#answers.get(m.id)?.resolve(m.result); this.#answers.delete(m.id); break;
      case 'events': this.onEvents(m.events); break;
      case 'done': this.onDone(m.result); break;
      case 'error':
        if (m.request === 'load') reject(new Error(m.message));
        else if (this.#answers.has(m.id)) { this.#answers.get(m.id).reject(new Error(m.message)); this.#answers.delete(m.id); }
        else this.onError(m.message, m.request);
        break;
      default: break;
    }
  }

  ready() { return this.#ready; }

  #ask(msg) {
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#answers.set(id, { resolve, reject });
      this.#send({ ...msg, id });
    });
  }

  validate(args) { return this.#ask({ op: 'validate', args }); }
  run(args) { this.#send({ op: 'run', args }); }
  cancel() { this.#send({ op: 'cancel' }); }
}
