// The official TypeScript SDK's Client over StreamableHTTPClientTransport
// against both reference servers: tools with their schemas, plain calls, a
// tool error validated against the output schema, progress over SSE
// polling, a task-based call of the Conductor's wait_jobs, and session end.
//   node sdk_interop.mjs SOLVER_BIN CONDUCTOR_BIN
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { startServer, check } from './server.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const sdk = path.join(here, '../interop/node_modules/@modelcontextprotocol/sdk/dist/esm');
const { Client } = await import(`${sdk}/client/index.js`);
const { StreamableHTTPClientTransport } = await import(`${sdk}/client/streamableHttp.js`);
const { ListTasksResultSchema, CallToolResultSchema } = await import(`${sdk}/types.js`);
void createRequire;

const [solverBin, conductorBin] = process.argv.slice(2);

async function connect(url) {
  const client = new Client({ name: 'sibyl-interop', version: '1.0.0' });
  const transport = new StreamableHTTPClientTransport(new URL(url));
  await client.connect(transport);
  return { client, transport };
}

const args = {
  budget_usd: 500,
  parameter_space: { learning_rate: [0.0001, 0.001, 0.01], batch_size: [32, 64, 128], dropout: [0.1, 0.3, 0.5] },
  cost_model: { gpu_hour_usd: 12.6, gpus_per_trial: 1, base_hours: 2.0,
    duration_scale: { batch_size: { 32: 1.15, 64: 1.0, 128: 0.85 } }, retry_reserve_fraction: 0.08 },
  max_concurrent: 5,
};

// --- the Solver ---
const solver = await startServer(solverBin);
try {
  check(solver.health.name === 'sibyl-solver', '/health names sibyl-solver');
  const { client, transport } = await connect(solver.url);
  check(client.getServerVersion()?.name === 'sibyl-solver', 'initialize: serverInfo');
  const { tools } = await client.listTools();
  check(tools.every((t) => t.description && t.inputSchema?.type === 'object' && !t.name.startsWith('test_')),
    `the Solver's tools (${tools.map((t) => t.name).join(', ')}): descriptions and input schemas, no fixtures`);
  const plan = tools.find((t) => t.name === 'plan_search_grid');
  check(plan && plan.inputSchema.type === 'object' && plan.outputSchema?.type === 'object',
    'tools/list: plan_search_grid with input and output schemas');
  const r = await client.callTool({ name: 'plan_search_grid', arguments: args });
  check(!r.isError && r.structuredContent.trials.length > 0 && r.structuredContent.total_estimated_cost_usd <= 500,
    `plan_search_grid: ${r.structuredContent?.trials?.length} trials within the budget`);
  const bad = await client.callTool({ name: 'plan_search_grid', arguments: { ...args, budget_usd: 0 } });
  check(bad.isError === true && /budget_usd/.test(bad.content[0].text),
    'a tool error reaches the SDK caller (its structuredContent fits the output schema)');
  let unknown = null;
  try { await client.callTool({ name: 'no_such_tool', arguments: {} }); } catch (e) { unknown = e; }
  check(unknown && unknown.code === -32602, 'an unknown tool is a JSON-RPC -32602 error');
  await transport.terminateSession();
  const after = await fetch(solver.url, { method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream',
      'Mcp-Session-Id': transport.sessionId ?? 'gone', 'MCP-Protocol-Version': '2025-11-25' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 9, method: 'ping' }) });
  check(after.status === 404, `DELETE ended the session: a later request gets 404 (${after.status})`);
  await client.close();
} finally {
  const e = await solver.stop();
  check(e.code === 0, 'sibyl-solver stops with status 0 on SIGTERM');
}

// --- the Conductor: 10 simulated hours per real second ---
const cond = await startServer(conductorBin, ['--time-scale', '36000', '--seed', '7', '--sse-retry-ms', '100']);
try {
  const { client } = await connect(cond.url);
  const { tools } = await client.listTools();
  // Whatever else the Conductor's own table lists is served too; fixtures only with the switch.
  const names = tools.map((t) => t.name);
  check(['submit_jobs', 'get_jobs_status', 'cancel_jobs', 'wait_jobs'].every((n) => names.includes(n)) &&
    !names.some((n) => n.startsWith('test_')), `the Conductor's tools: ${names.join(', ')}`);
  const wait = tools.find((t) => t.name === 'wait_jobs');
  check(wait.execution?.taskSupport === 'optional' && wait.outputSchema, 'wait_jobs: taskSupport optional, output schema');
  const jobs = (n) => Array.from({ length: n }, (_, i) => ({ hyperparameters: { learning_rate: 0.001, batch_size: 64, dropout: 0.1 * (i + 1) } }));

  const s1 = await client.callTool({ name: 'submit_jobs', arguments: { jobs: jobs(3), idempotency_key: 'k1' } });
  const h1 = s1.structuredContent.handle_id;
  check(typeof h1 === 'string' && s1.structuredContent.job_ids.length === 3, `submit_jobs: handle ${h1}, 3 jobs`);

  // A task-based call: the SDK's callToolStream with task augmentation.
  const seen = [];
  let result = null;
  for await (const m of client.experimental.tasks.callToolStream({ name: 'wait_jobs', arguments: { handle_id: h1 } },
    CallToolResultSchema, { task: { ttl: 60000 } })) {
    seen.push(m.type);
    if (m.type === 'result') result = m.result;
    if (m.type === 'error') throw m.error;
  }
  check(seen[0] === 'taskCreated', `task-based wait_jobs: ${seen.join(' -> ')}`);
  const c = result?.structuredContent?.counts;
  check(result && result.structuredContent.done === true && c.queued + c.running === 0 && c.total === 3,
    'task result: every job of the handle finished');
  const listed = await client.request({ method: 'tasks/list', params: {} }, ListTasksResultSchema);
  check(listed.tasks.length === 1 && listed.tasks[0].status === 'completed', 'tasks/list: the completed task');

  // A plain call with a progressToken: answered over SSE polling, with progress.
  const s2 = await client.callTool({ name: 'submit_jobs', arguments: { jobs: jobs(25) } });
  const progress = [];
  const r2 = await client.callTool({ name: 'wait_jobs', arguments: { handle_id: s2.structuredContent.handle_id } },
    CallToolResultSchema, { onprogress: (p) => progress.push(p), timeout: 60000 });
  check(r2.structuredContent.done === true && r2.structuredContent.counts.total === 25, 'plain wait_jobs answers when all 25 jobs end');
  check(progress.length > 0 && progress.every((p) => p.total === 25 && p.progress <= 25),
    `progress notifications: jobs finished of 25 (${progress.length} seen)`);
  await client.close();
} finally {
  const e = await cond.stop();
  check(e.code === 0, 'sibyl-conductor stops with status 0 on SIGTERM');
  check(/in-flight jobs at exit: \d+ running, \d+ queued/.test(e.stderr), 'the stop reports in-flight jobs');
}
