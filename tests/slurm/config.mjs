// sibyl-conductor --backend slurm refuses a workspace it cannot use before
// it listens, with the file and line:column where there is one, and exit 2:
// an unknown key under backends.slurm (with a suggestion), a wrong type, a
// command template that does not parse, no backends.slurm at all. Needs no
// cluster.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { check, main, repo, tempDir } from './lib.mjs';

const HEAD = 'version: 1\nservers:\n  conductor: {transport: http, url: "http://127.0.0.1:1/mcp"}\n';
const cases = [
  ['unknown key', `${HEAD}backends:\n  slurm:\n    command: [/bin/true]\n    partitio: debug\n`, /ws\.yaml:7:5: .*unknown key 'partitio' \(did you mean 'partition'\?\)/],
  ['wrong type', `${HEAD}backends:\n  slurm:\n    command: [/bin/true]\n    time_limit: "1h"\n`, /ws\.yaml:7:17: .*time_limit: expected an integer/],
  ['empty command', `${HEAD}backends:\n  slurm:\n    command: []\n`, /ws\.yaml:6:14: .*command: must not be empty/],
  ['bad template', `${HEAD}backends:\n  slurm:\n    command: [/bin/echo, "{{ hyperparameters. }}"]\n`, /ws\.yaml:6:\d+: error: in '\{\{ hyperparameters\. \}\}'/],
  ['no backends.slurm', HEAD, /--backend slurm needs --workspace FILE with backends\.slurm\.command/],
];

main('slurm.config', async () => {
  const dir = tempDir('config');
  const bin = path.join(repo, 'build/native/servers/sibyl-conductor');
  for (const [what, text, want] of cases) {
    const ws = path.join(dir, 'ws.yaml');
    fs.writeFileSync(ws, text);
    const r = spawnSync(bin, ['--port', '0', '--backend', 'slurm', '--workspace', ws], { encoding: 'utf8', timeout: 20000 });
    check(r.status === 2 && want.test(r.stderr) && !/listening/.test(r.stderr), `${what}: exit ${r.status}: ${r.stderr.trim()}`);
  }
});
