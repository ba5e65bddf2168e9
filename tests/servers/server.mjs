// Starts a reference server on a free port (--port 0), waits for the URL it
// prints and for GET /health, and stops it with SIGTERM (also when the test
// fails: a handler kills it on exit). No fixed ports, no sleeps.
import { spawn } from 'node:child_process';

const live = new Set();
process.on('exit', () => { for (const p of live) p.kill('SIGKILL'); });

export async function startServer(bin, args = []) {
  const proc = spawn(bin, ['--port', '0', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  live.add(proc);
  let stderr = '';
  const exited = new Promise((resolve) => proc.on('exit', (code, signal) => { live.delete(proc); resolve({ code, signal }); }));
  const url = await new Promise((resolve, reject) => {
    proc.stderr.on('data', (d) => {
      stderr += d;
      const m = /listening on (http:\/\/\S+)/.exec(stderr);
      if (m) resolve(m[1]);
    });
    exited.then((e) => reject(new Error(`${bin} exited (${e.code ?? e.signal}) before listening:\n${stderr}`)));
  });
  const base = url.replace(/\/mcp$/, '');
  const health = await (await fetch(`${base}/health`)).json();
  if (health.status !== 'ok') throw new Error(`unhealthy: ${JSON.stringify(health)}`);
  return {
    url, base, health, proc,
    log: () => stderr,
    async stop() {
      proc.kill('SIGTERM');
      const e = await exited;
      return { ...e, stderr };
    },
  };
}

export function check(cond, what) {
  if (!cond) throw new Error(`FAIL: ${what}`);
  console.log(`ok - ${what}`);
}
