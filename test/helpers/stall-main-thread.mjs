// Preloaded with `node --import` by test/cli/dashboard.e2e.test.ts: makes the process's main thread
// (the session's: reading, decoding, flows) busy on demand, as a flat-out engine would be.
// It writes the pid to $PSN_PID_FILE; on SIGUSR2 the main thread spins for $PSN_STALL_MS ms, then
// writes $PSN_PID_FILE.stalled. Other threads (the dashboard's, the pipeline's) are left alone.
import { writeFileSync } from 'node:fs';
import { isMainThread } from 'node:worker_threads';

const pidFile = process.env.PSN_PID_FILE;
if (isMainThread && pidFile) {
  writeFileSync(pidFile, String(process.pid));
  process.on('SIGUSR2', () => {
    const until = Date.now() + Number(process.env.PSN_STALL_MS ?? 8000);
    while (Date.now() < until);
    writeFileSync(`${pidFile}.stalled`, 'over');
  });
}
