// An MCP server built with the official TypeScript SDK (McpServer over
// StreamableHTTPServerTransport, sessions), the peer sibyl's client is tested
// against. Tools:
//   train           plain tool: {lr} -> structuredContent {lr, score}
//   slow_train      registered as a task (execution.taskSupport optional):
//                   finishes after `ms` milliseconds (default 300); its result
//                   says the ttl the caller asked for (null: not asked as a task)
//   progress_train  sends three notifications/progress (when the caller gives a
//                   progressToken) and one notifications/message, then answers
// GET /health answers {"status":"ok"}. With INTEROP_TOKEN set, /mcp wants
// `Authorization: Bearer $INTEROP_TOKEN` (else 401).
// Prints "listening PORT" once it listens on 127.0.0.1 (port 0: the OS picks).
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import * as z from 'zod/v4';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { InMemoryTaskStore, InMemoryTaskMessageQueue } from '@modelcontextprotocol/sdk/experimental/tasks/stores/in-memory.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';

const taskStore = new InMemoryTaskStore();
const token = process.env.INTEROP_TOKEN || '';

function makeServer() {
  const server = new McpServer({ name: 'sdk-interop', version: '1.0.0' }, {
    capabilities: { logging: {}, tasks: { requests: { tools: { call: {} } } } },
    taskStore,
    taskMessageQueue: new InMemoryTaskMessageQueue(),
  });
  server.registerTool('train', {
    description: 'Scores one learning rate',
    inputSchema: { lr: z.number() },
    outputSchema: { lr: z.number(), score: z.number() },
  }, async ({ lr }) => ({
    content: [{ type: 'text', text: `score ${1 - lr}` }],
    structuredContent: { lr, score: 1 - lr },
  }));
  server.registerTool('progress_train', {
    description: 'Trains with progress notifications',
    inputSchema: { epochs: z.number().default(3) },
  }, async ({ epochs }, extra) => {
    const tok = extra._meta?.progressToken;
    for (let i = 1; i <= epochs; i++) {
      if (tok !== undefined)
        await extra.sendNotification({ method: 'notifications/progress',
          params: { progressToken: tok, progress: i, total: epochs, message: `epoch ${i}` } });
    }
    await extra.sendNotification({ method: 'notifications/message',
      params: { level: 'info', logger: 'trainer', data: `trained ${epochs} epochs` } });
    return { content: [{ type: 'text', text: 'done' }], structuredContent: { epochs, loss: 0.25 } };
  });
  server.experimental.tasks.registerToolTask('slow_train', {
    description: 'A long training job, run as a task',
    inputSchema: { ms: z.number().default(300) },
    execution: { taskSupport: 'optional' },
  }, {
    async createTask({ ms }, { taskStore: store, taskRequestedTtl }) {
      const task = await store.createTask({ ttl: taskRequestedTtl, pollInterval: 100 });
      setTimeout(() => {
        store.storeTaskResult(task.taskId, 'completed', {
          content: [{ type: 'text', text: `trained in ${ms} ms` }],
          structuredContent: { ms, accuracy: 0.9, requested_ttl: taskRequestedTtl ?? null },
        }).catch(() => {});
      }, ms);
      return { task };
    },
    async getTask(_args, { taskId, taskStore: store }) { return await store.getTask(taskId); },
    async getTaskResult(_args, { taskId, taskStore: store }) { return await store.getTaskResult(taskId); },
  });
  return server;
}

const transports = {};
let authSeen = 0;

async function readJson(req) {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  const text = Buffer.concat(chunks).toString('utf8');
  return text ? JSON.parse(text) : undefined;
}

const httpServer = http.createServer(async (req, res) => {
  try {
    if (req.url === '/health') {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ status: 'ok', name: 'sdk-interop', auth_seen: authSeen }));
      return;
    }
    if (!req.url.startsWith('/mcp')) { res.writeHead(404); res.end(); return; }
    if (token) {
      if (req.headers.authorization !== `Bearer ${token}`) {
        res.writeHead(401, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ error: 'unauthorized' }));
        return;
      }
      authSeen++;
    }
    const sid = req.headers['mcp-session-id'];
    const body = req.method === 'POST' ? await readJson(req) : undefined;
    let transport = sid ? transports[sid] : undefined;
    if (!transport) {
      if (sid || req.method !== 'POST' || !isInitializeRequest(body)) {
        res.writeHead(sid ? 404 : 400, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32000, message: 'no such session' }, id: null }));
        return;
      }
      transport = new StreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        onsessioninitialized: (id) => { transports[id] = transport; },
      });
      transport.onclose = () => { if (transport.sessionId) delete transports[transport.sessionId]; };
      await makeServer().connect(transport);
    }
    await transport.handleRequest(req, res, body);
  } catch (e) {
    if (!res.headersSent) { res.writeHead(500); }
    res.end(String(e));
  }
});

httpServer.listen(0, '127.0.0.1', () => {
  console.log(`listening ${httpServer.address().port}`);
});
const stop = () => httpServer.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
