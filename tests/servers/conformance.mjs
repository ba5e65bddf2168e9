// The official MCP conformance suite (server mode, every scenario) against
// one reference server started with its conformance fixtures.
//   node conformance.mjs NODE22 CONFORMANCE_INDEX_JS SERVER_BIN EXPECTED_FAILURES_YML
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { startServer, check } from './server.mjs';

const [node22, suite, bin, expected] = process.argv.slice(2);
// The waiver list may name only what these servers do not offer.
const waived = readFileSync(expected, 'utf8').split('\n').filter((l) => /^\s*-\s/.test(l)).map((l) => l.replace(/^\s*-\s*/, '').trim());
for (const s of waived)
  check(/sampling|elicitation|resources|prompts/.test(s), `waived scenario ${s} is about sampling, elicitation, resources or prompts`);

const srv = await startServer(bin, ['--conformance-fixtures', '--sse-retry-ms', '500']);
try {
  const r = spawnSync(node22, [suite, 'server', '--url', srv.url, '--suite', 'all', '--expected-failures', expected],
    { encoding: 'utf8', timeout: 240000 });
  const out = `${r.stdout}\n${r.stderr}`;
  const summary = out.slice(out.indexOf('=== SUMMARY ==='));
  console.log(summary);
  for (const s of ['server-initialize', 'tools-call-with-progress', 'tools-call-with-logging', 'server-sse-polling',
    'dns-rebinding-protection', 'json-schema-2020-12', 'completion-complete', 'logging-set-level'])
    check(new RegExp(`✓ ${s}:`).test(summary), `scenario ${s} passes`);
  check(r.status === 0, `conformance suite: only waived scenarios fail (exit ${r.status})`);
} finally {
  const e = await srv.stop();
  check(e.code === 0, `SIGTERM: exit status 0 (got ${e.code ?? e.signal})`);
  check(/stopping, no new connections/.test(e.stderr), 'SIGTERM is logged');
}
