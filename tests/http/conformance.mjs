// The official MCP conformance suite in client mode against `sibyl mcp call`:
//   node conformance.mjs initialize|tools_call|sse-retry
// The suite starts its own mock server, runs `<sibyl> mcp call <url>` with
// MCP_CONFORMANCE_SCENARIO set, and judges what the client did.
import path from 'node:path';
import { check, env, finish, interopModules, main, node22, requireInterop, run } from './lib.mjs';

const scenario = process.argv[2];
main(`conformance client ${scenario}`, async () => {
  requireInterop();
  const suite = path.join(interopModules(), '@modelcontextprotocol/conformance/dist/index.js');
  const r = await run(node22(), [suite, 'client', '--command', `${env.native} mcp call`, '--scenario', scenario],
    { limitMs: 60000 });
  const out = r.stdout + r.stderr;
  check(r.code === 0, `the suite exited ${r.code} (${r.signal || 'no signal'})`);
  check(/OVERALL: PASSED/.test(out), 'the suite did not report OVERALL: PASSED');
  check(!/\bFAILURE\b/.test(out), 'a check failed');
  await finish(`conformance client ${scenario}`, r.code === 0 ? undefined : out);
});
