// Placed by --extern-pre-js at the top of sibyl.mjs, outside the factory.
// Emscripten 3.1.6's Node path calls require() and reads __dirname, neither
// of which exists in an ES module, so under Node (only) they are defined
// here as module-scoped bindings the generated code closes over. In a
// browser nothing is imported and the loader takes its fetch() path.
var require, __dirname;
if (typeof process === 'object' && process.versions && process.versions.node) {
  const { createRequire } = await import('node:module');
  const { fileURLToPath } = await import('node:url');
  const { dirname } = await import('node:path');
  require = createRequire(import.meta.url);
  __dirname = dirname(fileURLToPath(import.meta.url)); // no trailing slash, as in CommonJS
}
