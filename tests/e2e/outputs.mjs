// Where `sibyl pipeline run` writes, and what happens when it cannot,
// natively and through sibyl.wasm (README: exit 4 when outputs cannot be
// written).
//   result-unwritable  the result file's name is taken by a folder: the run
//                      ends, exit 4, a message with the path and the OS reason,
//                      the stream file complete, the result kept in .tmp
//   stream-unwritable  every stream write fails (streaming.file /dev/full): one
//                      message, the run goes on, the result file is written, exit 4
//   dir-is-file        --output-dir names a file (or a folder below one): exit 4
//                      before any job is submitted, nothing written
//   dir-parent         --output-dir ../../existing and ../../new/sub (sibyl.wasm
//                      must not mkdir ".."): written there
//   ws-relative        outputs.dir "out" is relative to the workspace file's folder
//   ws-absolute        outputs.dir /abs: written there natively; sibyl.wasm refuses
//                      (exit 4, how to preopen) unless SIBYL_WASI_DIRS preopens it
import fs from 'node:fs';
import path from 'node:path';
import process from 'node:process';
import { SKIP, check, copyExample, finish, parseLog, readJson, readStream, requireBuilt, run, tempDir } from './lib.mjs';

requireBuilt({ native: true });
const part = process.argv[2];
if (part === 'stream-unwritable' && !fs.existsSync('/dev/full')) {
  process.stdout.write('skipped: no /dev/full on this system\n');
  process.exit(SKIP);
}
const builds = [['native', true], ['wasm', false]];
const cmd = (config, ...more) => ['pipeline', 'run', 'hyperparameter_sweep', '--config', config,
  '--input', 'budget_usd=500', '--input', 'target_metric=val_acc', ...more];
const RESULT = 'sweep_output.json';
const STREAM = 'sweep_output_stream.jsonl';

// A finished sweep's files in dir.
function checkWritten(dir, what) {
  check(fs.existsSync(path.join(dir, RESULT)), `${what}: no ${RESULT} in ${dir}`);
  check(fs.existsSync(path.join(dir, STREAM)), `${what}: no ${STREAM} in ${dir}`);
  if (fs.existsSync(path.join(dir, RESULT)))
    check(readJson(path.join(dir, RESULT)).status === 'succeeded', `${what}: result status`);
}

function expectRefused(r, what, res) {
  check(r.code === 4, `${what}: exit ${r.code}, expected 4 (stderr: ${r.stderr.trim()})`);
  for (const re of res) check(re.test(r.stderr), `${what}: stderr does not match ${re}: ${r.stderr.trim()}`);
  check(/error/.test(r.stderr) && r.stderr.trim().split('\n').length === 1, `${what}: not one error line: ${r.stderr}`);
  // Fail fast: no log line means no step ran, so no job was submitted.
  check(r.stdout === '', `${what}: the run started: ${r.stdout.slice(0, 200)}`);
}

for (const [name, native] of builds) {
  if (part === 'result-unwritable') {
    const dir = tempDir('out-result');
    fs.mkdirSync(path.join(dir, RESULT));
    const r = run({ args: cmd(copyExample(dir)), cwd: dir, native });
    check(r.code === 4, `${name}: exit ${r.code}, expected 4 (stderr: ${r.stderr.trim()})`);
    check(/sweep_output\.json/.test(r.stderr) && /Is a directory/.test(r.stderr),
      `${name}: stderr does not name the result file and the OS reason: ${r.stderr.trim()}`);
    // Nothing produced is lost: every finished job in the stream file, the result beside it.
    const chunks = readStream(path.join(dir, STREAM));
    const tmp = path.join(dir, `${RESULT}.tmp`);
    if (check(fs.existsSync(tmp), `${name}: the result is not kept in ${RESULT}.tmp`)) {
      const res = readJson(tmp);
      const b = res.cost_breakdown;
      check(chunks.length > 0 && chunks.length === b.jobs.completed + b.jobs.failed,
        `${name}: ${chunks.length} stream lines, result counts ${b.jobs.completed} + ${b.jobs.failed} jobs`);
      check(/sweep_output\.json\.tmp/.test(r.stderr), `${name}: stderr does not say where the result is`);
    }
    parseLog(r.stdout, name);
  } else if (part === 'stream-unwritable') {
    const dir = tempDir('out-stream');
    const config = copyExample(dir, { workspace: [[/^ {2}file: sweep_output_stream\.jsonl$/m, '  file: /dev/full']] });
    // sibyl.wasm reaches /dev only when it is preopened.
    const r = run({ args: cmd(config), cwd: dir, native, env: { SIBYL_WASI_DIRS: '/dev' } });
    check(r.code === 4, `${name}: exit ${r.code}, expected 4 (stderr: ${r.stderr.trim()})`);
    check(/^\/dev\/full: error: cannot write the stream file: No space left on device$/.test(r.stderr.trim()),
      `${name}: not one message naming the stream file and the reason: ${r.stderr.trim()}`);
    if (check(fs.existsSync(path.join(dir, RESULT)), `${name}: no ${RESULT}`))
      check(readJson(path.join(dir, RESULT)).status === 'succeeded', `${name}: result status`);
    parseLog(r.stdout, name);
  } else if (part === 'dir-is-file') {
    const dir = tempDir('out-file');
    const config = copyExample(dir);
    fs.writeFileSync(path.join(dir, 'afile'), 'x');
    for (const out of ['afile', 'afile/sub']) {
      const r = run({ args: cmd(config, '--output-dir', out), cwd: dir, native });
      expectRefused(r, `${name} --output-dir ${out}`, [new RegExp(`^${out}: error`), /output folder/,
        /afile/, /Not a directory/]);
    }
    check(fs.readFileSync(path.join(dir, 'afile'), 'utf8') === 'x', `${name}: afile changed`);
    check(JSON.stringify(fs.readdirSync(dir).sort()) === JSON.stringify(['afile', 'pipelines.yaml', 'workspace.yaml']),
      `${name}: files written: ${fs.readdirSync(dir)}`);
  } else if (part === 'dir-parent') {
    const root = tempDir('out-parent');
    const config = copyExample(root);
    const cwd = path.join(root, 'a', 'b');
    fs.mkdirSync(cwd, { recursive: true });
    fs.mkdirSync(path.join(root, 'existing'));
    for (const out of ['../../existing', '../../new/sub', '../../existing/./deeper/..']) {
      const r = run({ args: cmd(config, '--output-dir', out), cwd, native });
      check(r.code === 0, `${name} --output-dir ${out}: exit ${r.code} (stderr: ${r.stderr.trim()})`);
      checkWritten(path.resolve(cwd, out), `${name} --output-dir ${out}`);
      fs.rmSync(path.resolve(cwd, out), { recursive: true });
    }
    check(fs.readdirSync(cwd).length === 0, `${name}: files written in the current folder: ${fs.readdirSync(cwd)}`);
  } else if (part === 'ws-relative') {
    const wsDir = tempDir('out-wsrel');
    const config = copyExample(wsDir, { workspace: [[/^ {2}# dir: .*$/m, '  dir: out']] });
    const cwd = tempDir('out-wsrel-cwd');
    const r = run({ args: cmd(config), cwd, native });
    check(r.code === 0, `${name}: exit ${r.code} (stderr: ${r.stderr.trim()})`);
    checkWritten(path.join(wsDir, 'out'), name);
    check(fs.readdirSync(cwd).length === 0, `${name}: files written in the current folder: ${fs.readdirSync(cwd)}`);
    const log = parseLog(r.stdout, name);
    check(log.some((l) => l.msg.includes(path.join(wsDir, 'out', RESULT))), `${name}: the log does not name ${wsDir}/out`);
  } else if (part === 'ws-absolute') {
    const target = path.join(tempDir('out-wsabs'), 'deep', 'results');
    const config = copyExample(tempDir('out-wsabs-ws'), { workspace: [[/^ {2}# dir: .*$/m, `  dir: ${target}`]] });
    const cwd = tempDir('out-wsabs-cwd');
    const r = run({ args: cmd(config), cwd, native, env: { SIBYL_WASI_DIRS: undefined } });
    if (native) {
      check(r.code === 0, `native: exit ${r.code} (stderr: ${r.stderr.trim()})`);
      checkWritten(target, name);
    } else {
      expectRefused(r, 'wasm without a preopen', [new RegExp(`^${target}: error`), /preopen/, /SIBYL_WASI_DIRS/]);
      check(!fs.existsSync(target), 'wasm: wrote the refused folder');
      const r2 = run({ args: cmd(config), cwd, native, env: { SIBYL_WASI_DIRS: target } });
      check(r2.code === 0, `wasm with SIBYL_WASI_DIRS: exit ${r2.code} (stderr: ${r2.stderr.trim()})`);
      checkWritten(target, 'wasm with SIBYL_WASI_DIRS');
    }
    // Written where the log says, never below the current folder.
    check(fs.readdirSync(cwd).length === 0, `${name}: files written in the current folder: ${fs.readdirSync(cwd)}`);
  } else {
    process.stderr.write('usage: outputs.mjs result-unwritable|stream-unwritable|dir-is-file|dir-parent|ws-relative|ws-absolute\n');
    process.exit(2);
  }
}
finish(`outputs ${part}`);
