// CommonJS entry for the forward-pass worker. Piscina loads a worker file with `require()` first; on
// Node >= 20.19 that means require(esm), and a worker terminated while require(esm) is instantiating
// the module aborts the whole process ("v8::Module::IsGraphAsync ... must be used on an instantiated
// module"), e.g. when a run fails before the pool has finished starting. Loading the ES module with
// import() from this CommonJS file avoids that path.
const handler = import('./forward.js');

module.exports = async function forwardEntry(task: unknown): Promise<unknown> {
  return (await handler).default(task as never);
};
