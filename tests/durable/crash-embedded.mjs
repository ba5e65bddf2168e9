// Durable runs with the embedded services (issue 14), where a resumed run
// must equal the uninterrupted one byte for byte:
//   node crash-embedded.mjs native|wasm|torn|corrupt|refused
// native, wasm: kill at spread journal writes (wasm: proc_exit(137), WASI has
//   no signals), resume, compare the result and stream files with an
//   uninterrupted run's; a finished run's resume changes nothing; wasm also
//   resumes a journal the native binary wrote.
// torn: a journal cut inside its last record resumes (the record dropped).
// corrupt: a flipped byte inside a record is refused with its offset.
// refused: an edited config, another journal format, no journal: exit 1.
import fs from 'node:fs';
import path from 'node:path';
import process from 'node:process';
import { finish, requireBuilt, tempDir } from '../e2e/lib.mjs';
import { check, checkStream, countRecords, JOURNAL, run, sweepArgs, sweepConfig } from './lib.mjs';

const mode = process.argv[2];
const native = mode !== 'wasm';
requireBuilt({ wasm: !native, native: true });
const START = ['--start-time', '1700000000'];
const dir = tempDir('durable');
sweepConfig(dir);
const sibyl = (args, env = {}) => run({ args, cwd: dir, native, env });
const read = (out, f) => fs.readFileSync(path.join(dir, out, f));

const base = sibyl(sweepArgs('base', START));
check(base.code === 0, `uninterrupted run: exit ${base.code}: ${base.stderr}`);
const total = countRecords(path.join(dir, 'base', JOURNAL));

function killAndResume(k, out = `k${k}`) {
  const killed = sibyl(sweepArgs(out, START), { SIBYL_JOURNAL_KILL_AT: String(k) });
  const wasKilled = native ? killed.signal === 'SIGKILL' : killed.code === 137;
  check(wasKilled, `kill at write ${k}: the run ended with ${killed.code ?? killed.signal}`);
  return out;
}

function checkSame(out, what) {
  const r = sibyl(['pipeline', 'resume', '--output-dir', out]);
  if (!check(r.code === 0, `${what}: resume exit ${r.code}: ${r.stderr.slice(-600)}`)) return r;
  check(read(out, 'sweep_output.json').equals(read('base', 'sweep_output.json')), `${what}: the result file differs`);
  check(read(out, 'sweep_output_stream.jsonl').equals(read('base', 'sweep_output_stream.jsonl')),
    `${what}: the stream file differs`);
  checkStream(path.join(dir, out), what);
  return r;
}

if (mode === 'native' || mode === 'wasm') {
  const n = native ? 12 : 4;
  let points = 0;
  for (let i = 0; i < n; i++) {
    const k = i === 0 ? 1 : Math.max(2, Math.floor((total * i) / n));
    checkSame(killAndResume(k), `kill at write ${k} of ${total}`);
    points++;
  }
  check(points === n, 'kill points');
  if (!native) { // a journal the native binary wrote, resumed by sibyl.wasm: one format
    const out = 'cross';
    const killed = run({ args: sweepArgs(out, START), cwd: dir, native: true,
      env: { SIBYL_JOURNAL_KILL_AT: String(Math.floor(total / 3)) } });
    check(killed.signal === 'SIGKILL', `native kill: ${killed.code ?? killed.signal}`);
    checkSame(out, 'native journal resumed by sibyl.wasm');
  }
  // A finished run: said so, nothing changed (the journal neither).
  const before = read('base', JOURNAL);
  const again = sibyl(['pipeline', 'resume', '--output-dir', 'base']);
  check(again.code === 0 && /already finished \(succeeded\): nothing to resume/.test(again.stdout),
    `resume of a finished run: ${again.code} ${again.stdout} ${again.stderr}`);
  check(read('base', JOURNAL).equals(before), 'resume of a finished run changed the journal');
} else if (mode === 'torn') {
  const out = killAndResume(Math.floor(total / 2));
  const j = path.join(dir, out, JOURNAL);
  const bytes = fs.readFileSync(j);
  // cut 5 bytes into what would be the next record: a write the crash cut short
  fs.writeFileSync(j, Buffer.concat([bytes, Buffer.from([17, 0, 0, 0, 0x12])]));
  const r = checkSame(out, 'torn tail');
  check(/an incomplete last record \(5 bytes\) is dropped/.test(r.stderr), `torn tail: no note: ${r.stderr}`);
  // a stream line cut by the crash is dropped and written again whole
  const out2 = killAndResume(Math.floor(total * 0.8));
  fs.appendFileSync(path.join(dir, out2, 'sweep_output_stream.jsonl'), '{"type":"job_comp');
  checkSame(out2, 'cut stream line');
} else if (mode === 'corrupt') {
  const out = killAndResume(Math.floor(total / 2));
  const j = path.join(dir, out, JOURNAL);
  const bytes = fs.readFileSync(j);
  // the 3rd record (after header and start): flip a byte of its payload
  let p = 12;
  for (let i = 0; i < 2; i++) p += 9 + bytes.readUInt32LE(p);
  const at = p;
  bytes[at + 9 + 2] ^= 0x40;
  fs.writeFileSync(j, bytes);
  const before = read(out, 'sweep_output_stream.jsonl');
  const r = sibyl(['pipeline', 'resume', '--output-dir', out]);
  check(r.code === 1, `corrupt: exit ${r.code}`);
  check(r.stderr.includes(`${out}/${JOURNAL}: error: corrupted record at byte offset ${at} (checksum mismatch)`),
    `corrupt: message: ${r.stderr}`);
  check(read(out, 'sweep_output_stream.jsonl').equals(before), 'corrupt: the stream file changed');
  check(fs.readFileSync(j).equals(bytes), 'corrupt: the journal changed');
} else if (mode === 'refused') {
  const out = killAndResume(Math.floor(total / 2));
  const j = path.join(dir, out, JOURNAL);
  // another config
  const pl = path.join(dir, 'pipelines.yaml');
  const text = fs.readFileSync(pl, 'utf8');
  fs.writeFileSync(pl, `${text}\n# edited\n`);
  let r = sibyl(['pipeline', 'resume', '--output-dir', out]);
  check(r.code === 1 && /changed since the run began/.test(r.stderr), `edited config: ${r.code} ${r.stderr}`);
  fs.writeFileSync(pl, text);
  // another format version
  const bytes = fs.readFileSync(j);
  const other = Buffer.from(bytes);
  other.writeUInt32LE(99, 8);
  fs.writeFileSync(j, other);
  r = sibyl(['pipeline', 'resume', '--output-dir', out]);
  check(r.code === 1 && /journal format 99, this sibyl reads format 1/.test(r.stderr), `format: ${r.code} ${r.stderr}`);
  fs.writeFileSync(j, bytes);
  // not a journal, no journal, no --output-dir
  fs.mkdirSync(path.join(dir, 'nj'));
  fs.writeFileSync(path.join(dir, 'nj', JOURNAL), '{}');
  r = sibyl(['pipeline', 'resume', '--output-dir', 'nj']);
  check(r.code === 1 && /not a sibyl journal/.test(r.stderr), `not a journal: ${r.code} ${r.stderr}`);
  r = sibyl(['pipeline', 'resume', '--output-dir', 'missing']);
  check(r.code === 1 && /missing\/sibyl.journal/.test(r.stderr), `no journal: ${r.code} ${r.stderr}`);
  r = sibyl(['pipeline', 'resume']);
  check(r.code === 2 && /--output-dir DIR is required/.test(r.stderr), `usage: ${r.code} ${r.stderr}`);
  // and the untouched journal still resumes to the uninterrupted result
  checkSame(out, 'after the refusals');
}
finish(`durable embedded ${mode}`);
