// Entry of a worker thread that runs a TypeScript module: worker threads do not inherit the
// tsx loader of the process (or of jest), so it is registered here before the module loads.
require('tsx/cjs/api').register();
require(require('node:worker_threads').workerData.entry);
