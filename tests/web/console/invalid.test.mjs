// web_console_invalid (issue 12, 4c): YAML the core rejects shows the
// diagnostic at its line: the list under the editors holds the terminal's
// exact line (the same text `sibyl workspace validate` / `pipeline validate`
// print for the same file), the editor's gutter marks that line, the text
// area is aria-invalid, clicking the diagnostic puts the caret on the line,
// and Run refuses to start. Cases: a YAML syntax error in the workspace and
// a schema error in the pipelines file (both files uploaded), and a key
// holding markup (shown as text: no element is made from it).
//   node invalid.test.mjs SIBYL SOLVER CONDUCTOR
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import process from 'node:process';
import { check, launch, log, main, openPage, repo, requireBuilt, startConsole, tempDir } from './lib.mjs';

const sibyl = resolve(process.argv[2] ?? '');
const EX = join(repo, 'examples/companies/vertex_foundry/config');
const ws = readFileSync(join(EX, 'workspace.yaml'), 'utf8');
const pl = readFileSync(join(EX, 'pipelines.yaml'), 'utf8');

// The terminal's diagnostics for the two files, from a folder holding them
// under the names the console uses.
function cliDiagnostics(dir, wsText, plText) {
  writeFileSync(join(dir, 'workspace.yaml'), wsText);
  writeFileSync(join(dir, 'pipelines.yaml'), plText);
  const run = (args) => spawnSync(sibyl, args, { cwd: dir, encoding: 'utf8' });
  const w = run(['workspace', 'validate', 'workspace.yaml']);
  const p = run(['pipeline', 'validate', '--workspace', 'workspace.yaml', '--config', 'pipelines.yaml']);
  return `${w.stderr}${p.stderr}`.split('\n').filter((l) => /^\S+\.yaml:\d+:\d+: error: /.test(l));
}

const CASES = [
  {
    name: 'YAML syntax error in the workspace',
    ws: ws.replace('\nname: vertex_foundry\n', '\nname: [vertex_foundry\n'),
    pl,
    file: 'workspace.yaml',
  },
  {
    name: 'unknown key in a pipeline step',
    ws,
    pl: pl.replace('        needs: [plan_search_grid]\n', '        needs: [plan_search_grid]\n        neds: [oops]\n'),
    file: 'pipelines.yaml',
    upload: true,   // given as files, through the upload field
  },
  {
    name: 'markup in a key is shown as text',
    ws,
    pl: pl.replace('        needs: [plan_search_grid]\n', '        needs: [plan_search_grid]\n        "<img src=x onerror=window.__injected=1>": 1\n'),
    file: 'pipelines.yaml',
    markup: true,
  },
];

await main('web_console_invalid', async () => {
  requireBuilt();
  const url = await startConsole();
  const browser = await launch();
  const dir = tempDir('invalid');
  for (const c of CASES) {
    const expected = cliDiagnostics(dir, c.ws, c.pl);
    if (!check(expected.length >= 1, `${c.name}: the terminal reports no error`)) continue;
    const line = Number(/^[^:]+:(\d+):/.exec(expected[0])[1]);
    const page = await openPage(browser, url);
    if (c.upload) {
      // Both files at once: the one with a top-level `pipelines:` goes to the pipelines editor.
      await page.setInputFiles('#upload', [
        { name: 'pipelines.yaml', mimeType: 'text/yaml', buffer: Buffer.from(c.pl) },
        { name: 'workspace.yaml', mimeType: 'text/yaml', buffer: Buffer.from(c.ws) },
      ]);
      await page.waitForFunction((t) => document.getElementById('pl-text').value === t, c.pl);
      check(await page.inputValue('#ws-text') === c.ws, `${c.name}: the workspace file went to the workspace editor`);
      check(await page.isChecked('input[name=source][value=paste]'), `${c.name}: an upload is "my own YAML"`);
    } else {
      await page.check('input[name=source][value=paste]');
      await page.fill('#ws-text', c.ws);
      await page.fill('#pl-text', c.pl);
    }
    await page.click('#validate');
    await page.waitForSelector('#diagnostics li');
    const shown = await page.$$eval('#diagnostics li', (lis) => lis.map((li) => li.textContent));
    log(`${c.name}: ${shown.join(' | ')}`);
    check(shown[0] === expected[0], `${c.name}: shown "${shown[0]}", terminal "${expected[0]}"`);
    const ta = c.file === 'workspace.yaml' ? '#ws-text' : '#pl-text';
    const marked = await page.$$eval(`${ta} ~ .gutter .err, .editor:has(${ta}) .gutter .err`, (s) => [...new Set(s.map((e) => Number(e.dataset.line)))]);
    check(marked.includes(line), `${c.name}: gutter marks ${marked}, want ${line}`);
    check(await page.getAttribute(ta, 'aria-invalid') === 'true', `${c.name}: aria-invalid`);
    if (c.markup) {
      check(shown[0].includes('<img src=x'), `${c.name}: the key appears as text: ${shown[0]}`);
      check(await page.$$eval('img', (i) => i.length) === 0 && !(await page.evaluate(() => window.__injected)),
        `${c.name}: markup from the YAML became an element`);
    }
    // The diagnostic is a button: it puts the caret on its line.
    await page.click('#diagnostics li button');
    const caretLine = await page.$eval(ta, (t) => t.value.slice(0, t.selectionStart).split('\n').length);
    const focused = await page.evaluate(() => document.activeElement.id);
    check(caretLine === line && focused === ta.slice(1), `${c.name}: caret on line ${caretLine} of #${focused}, want ${line}`);
    // Run refuses.
    await page.click('#run');
    await page.waitForFunction(() => /^Not started/.test(document.getElementById('status').textContent));
    check(await page.$eval('#summary', (s) => s.dataset.status) === undefined, `${c.name}: a run started`);
    await page.close();
  }
});
