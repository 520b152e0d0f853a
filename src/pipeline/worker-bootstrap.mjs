// Development only: loads the TypeScript worker (pipeline/worker.ts) under tsx, because Node 20
// cannot start a Worker from a .ts file (ERR_UNKNOWN_FILE_EXTENSION). Production builds start
// dist/pipeline/worker.js directly and never use this file.
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.entry);
