// Placed by --pre-js inside the factory. Under Node 18+ the 3.1.6 loader
// sees a global fetch() and uses it for sibyl.wasm, which fails for file
// paths ("fetch failed"). Under Node, hand it the bytes read from disk
// instead (Module.wasmBinary, a documented Module option), unless the
// embedder already supplied them or its own instantiateWasm. Browsers keep
// the default streaming fetch(). __dirname comes from node-env.extern-pre.js.
if (typeof process === 'object' && process.versions && process.versions.node &&
    !Module['wasmBinary'] && !Module['instantiateWasm']) {
  Module['wasmBinary'] = require('fs').readFileSync(
    Module['locateFile'] ? Module['locateFile']('sibyl.wasm', __dirname + '/')
                         : require('path').join(__dirname, 'sibyl.wasm'));
}
