// --stream given while the workspace disables streaming (a copy of the
// example workspace with streaming.enabled: false), through sibyl.wasm: a
// warning on stderr, the STREAM lines still printed, no stream file written,
// and the run otherwise unchanged. Also: with streaming enabled and no
// --stream, the stream file is written and no STREAM line is printed.
import fs from 'node:fs';
import path from 'node:path';
import { check, copyExample, finish, headlineArgs, parseLog, readJson, readStream, requireBuilt, run, tail, tempDir } from './lib.mjs';

requireBuilt();
const dir = tempDir('stream-off');
const config = copyExample(dir, { workspace: [[/^streaming:\n {2}enabled: true$/m, 'streaming:\n  enabled: false']] });
const res = run({ args: headlineArgs(config), cwd: dir });
check(res.code === 0, `exit ${res.code}`);
check(/warning/.test(res.stderr) && /--stream/.test(res.stderr) && /streaming\.enabled: false/.test(res.stderr),
  `no warning about --stream vs streaming.enabled: false on stderr: ${JSON.stringify(res.stderr)}`);
check(res.stderr.trim().split('\n').length === 1, `more than the warning on stderr: ${res.stderr}`);
check(!/warning/i.test(res.stdout), 'the warning went to stdout');
const log = parseLog(res.stdout);
const streamLines = log.filter((l) => l.level === 'STREAM');
check(streamLines.length >= 19, `${streamLines.length} STREAM lines`);
check(!fs.existsSync(path.join(dir, 'sweep_output_stream.jsonl')), 'a stream file was written although streaming is disabled');
const r = readJson(path.join(dir, 'sweep_output.json'));
check(r.status === 'succeeded', `status ${r.status}`);
check(streamLines.length === r.cost_breakdown.jobs.completed + r.cost_breakdown.jobs.failed, 'STREAM lines != finished jobs');

// The other way round: streaming enabled, no --stream.
const dir2 = tempDir('stream-quiet');
const args = headlineArgs().filter((a) => a !== '--stream');
const res2 = run({ args, cwd: dir2 });
check(res2.code === 0 && res2.stderr === '', `without --stream: exit ${res2.code}, stderr ${res2.stderr}`);
check(!parseLog(res2.stdout, 'log without --stream').some((l) => l.level === 'STREAM'), 'STREAM lines without --stream');
check(readStream(path.join(dir2, 'sweep_output_stream.jsonl')).length === streamLines.length,
  'without --stream the stream file does not have one line per finished job');
finish('stream disabled', { label: 'stdout (tail)', text: `${tail(res.stdout)}\n--- stderr ---\n${res.stderr}` });
