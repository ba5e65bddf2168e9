// A small MCP server (Streamable HTTP, JSON answers, sessions) that produces
// one class of fault on demand, for sibyl's HTTP host and client tests.
//
//   node fault-server.mjs --fault F [--times N]
//
// The first N (default 1) tools/call requests (of tool T with --tool T) get
// fault F; later ones are answered normally. Faults:
//   none       no fault
//   reset      headers and half a body, then the connection is destroyed
//   hang       never answers (the client's timeout must fire)
//   5xx        HTTP 503 with a text body
//   malformed  HTTP 200, Content-Type application/json, a cut JSON text
//   session    HTTP 404: the session is forgotten (the client re-initializes)
//   sse-cut    an SSE answer with an event id, cut before the response; a
//              GET with Last-Event-ID then gets the response
// (Connection refused needs no server: the tests use a port nobody listens on.)
//
// Tools: echo (structuredContent = the arguments), submit_jobs ({jobs:[...],
// idempotency_key?} -> {handle_id, job_ids}; a key seen before returns the
// first answer, as the Conductor does: no job is submitted twice),
// get_jobs_status ({handle_id} -> every job completed with metrics; with
// --pending every job runs until cancel_jobs {handle_id} cancels its handle).
// GET /health -> {"status":"ok"}; GET /stats -> what happened (calls, faults
// given, initializes, resumptions with their Last-Event-ID, jobs created per
// idempotency key, the Authorization headers seen).
// Prints "listening PORT" once it listens on 127.0.0.1 (a port the OS picks).
import http from 'node:http';

const argv = process.argv.slice(2);
const opt = (name, dflt) => { const i = argv.indexOf(name); return i >= 0 ? argv[i + 1] : dflt; };
const fault = opt('--fault', 'none');
let faultsLeft = Number(opt('--times', '1'));
const faultTool = opt('--tool', null); // only calls of this tool get the fault
const pending = argv.includes('--pending'); // jobs keep running until cancel_jobs
const cancelled = new Set();                // handles cancelled

const stats = { cancels: 0, statuses: 0, submits: 0, calls: 0, faults: 0, initializes: 0, resumes: [], jobs_created: 0, keys: {}, auth: [], x_test: [] };
const sessions = new Set();
let nextSession = 1;
const pendingSse = new Map(); // event id -> JSON-RPC response
const handles = new Map();    // handle id -> job ids
const byKey = new Map();      // idempotency key -> the first answer

function tool(name, args) {
  if (name === 'get_jobs_status') stats.statuses++;
  if (name === 'echo')
    return { content: [{ type: 'text', text: JSON.stringify(args) }], structuredContent: args };
  if (name === 'submit_jobs') {
    // Like the Conductor: a repeated idempotency_key returns the first answer
    // and creates nothing.
    const key = args.idempotency_key;
    if (key && byKey.has(key)) return byKey.get(key);
    const ids = (args.jobs || []).map(() => `job_${++stats.jobs_created}`);
    const handle = `h${handles.size + 1}`;
    handles.set(handle, ids);
    const out = { handle_id: handle, job_ids: ids };
    const result = { content: [{ type: 'text', text: JSON.stringify(out) }], structuredContent: out };
    if (key) { byKey.set(key, result); stats.keys[key] = (stats.keys[key] || 0) + 1; }
    stats.submits++;
    return result;
  }
  if (name === 'cancel_jobs') {
    cancelled.add(args.handle_id);
    stats.cancels++;
    const out = { handle_id: args.handle_id, cancelled: (handles.get(args.handle_id) || []).length };
    return { content: [{ type: 'text', text: JSON.stringify(out) }], structuredContent: out };
  }
  if (name === 'get_jobs_status') {
    const ids = handles.get(args.handle_id) || [];
    if (pending) {
      const status = cancelled.has(args.handle_id) ? 'cancelled' : 'running';
      const jobs = ids.map((id) => ({ job_id: id, status, ...(status === 'cancelled' ? { cost_usd: 0.5 } : {}) }));
      return { content: [{ type: 'text', text: 'ok' }], structuredContent: { handle_id: args.handle_id, jobs } };
    }
    const jobs = ids.map((id, k) => ({ job_id: id, status: 'completed', hyperparameters: { lr: k },
      metrics: { val_acc: 0.5 + k / 10 }, cost_usd: 1 }));
    const out = { handle_id: args.handle_id, jobs };
    return { content: [{ type: 'text', text: 'ok' }], structuredContent: out };
  }
  return null;
}

function json(res, status, body, headers = {}) {
  res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

let eventId = 0;
function handlePost(req, res, msg) {
  const sid = req.headers['mcp-session-id'];
  if (msg.method === 'initialize') {
    stats.initializes++;
    const s = `s${nextSession++}`;
    sessions.add(s);
    return json(res, 200, { jsonrpc: '2.0', id: msg.id, result: {
      protocolVersion: '2025-11-25', capabilities: { tools: {} }, serverInfo: { name: 'fault-server', version: '1' } } },
    { 'Mcp-Session-Id': s });
  }
  if (!sid || !sessions.has(sid)) return json(res, 404, { jsonrpc: '2.0', id: null, error: { code: -32001, message: 'session not found' } });
  if (msg.id === undefined) { res.writeHead(202); return res.end(); }
  if (msg.method === 'tools/list')
    return json(res, 200, { jsonrpc: '2.0', id: msg.id, result: { tools: [
      { name: 'echo', description: 'echo', inputSchema: { type: 'object' } },
      { name: 'submit_jobs', description: 'submit', inputSchema: { type: 'object' } },
      { name: 'get_jobs_status', description: 'status', inputSchema: { type: 'object' } }] } });
  if (msg.method !== 'tools/call')
    return json(res, 200, { jsonrpc: '2.0', id: msg.id, error: { code: -32601, message: 'method not found' } });
  stats.calls++;
  const give = fault !== 'none' && faultsLeft > 0 && (!faultTool || msg.params?.name === faultTool);
  if (give) { faultsLeft--; stats.faults++; }
  // A fault strikes before the tool runs, except for a reset (the work is
  // done and the answer lost: what idempotency keys are for).
  if (give && fault === 'hang') return; // never answered
  if (give && fault === '5xx') { res.writeHead(503, { 'Content-Type': 'text/plain' }); return res.end('overloaded'); }
  if (give && fault === 'malformed') { res.writeHead(200, { 'Content-Type': 'application/json' }); return res.end('{"jsonrpc":"2.0","id":'); }
  if (give && fault === 'session') { sessions.delete(sid); return json(res, 404, { jsonrpc: '2.0', id: null, error: { code: -32001, message: 'session expired' } }); }
  const result = tool(msg.params?.name, msg.params?.arguments || {});
  const answer = result ? { jsonrpc: '2.0', id: msg.id, result }
    : { jsonrpc: '2.0', id: msg.id, error: { code: -32602, message: `unknown tool ${msg.params?.name}` } };
  if (give && fault === 'reset') {
    res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': '500' });
    res.write(JSON.stringify(answer).slice(0, 20));
    return setTimeout(() => req.socket.destroy(), 20);
  }
  if (give && fault === 'sse-cut') {
    const id = `e${++eventId}`;
    pendingSse.set(id, answer);
    res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Mcp-Session-Id': sid });
    res.write(`id: ${id}\nretry: 100\ndata: \n\n`);
    return setTimeout(() => req.socket.destroy(), 30); // cut, not a clean end
  }
  json(res, 200, answer);
}

const server = http.createServer((req, res) => {
  if (req.url === '/health') return json(res, 200, { status: 'ok', name: 'fault-server' });
  if (req.url === '/stats') return json(res, 200, stats);
  stats.auth.push(req.headers.authorization || null);
  stats.x_test.push(req.headers['x-test'] || null);
  if (req.method === 'GET') {
    const last = req.headers['last-event-id'];
    stats.resumes.push(last || null);
    const answer = last && pendingSse.get(last);
    if (!answer) { res.writeHead(405); return res.end(); }
    pendingSse.delete(last);
    res.writeHead(200, { 'Content-Type': 'text/event-stream' });
    res.write(`id: ${last}-r\ndata: ${JSON.stringify(answer)}\n\n`);
    return; // left open, as servers do; the client must not wait for its end
  }
  if (req.method === 'DELETE') { sessions.delete(req.headers['mcp-session-id']); res.writeHead(200); return res.end(); }
  let body = '';
  req.on('data', (c) => { body += c; });
  req.on('end', () => {
    let msg;
    try { msg = JSON.parse(body); } catch { return json(res, 400, { jsonrpc: '2.0', id: null, error: { code: -32700, message: 'parse error' } }); }
    handlePost(req, res, msg);
  });
});
server.listen(0, '127.0.0.1', () => console.log(`listening ${server.address().port}`));
const stop = () => { server.closeAllConnections?.(); server.close(() => process.exit(0)); };
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
