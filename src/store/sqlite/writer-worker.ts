/**
 * The writer thread (writer.ts): runs the store's hot writes on its own connection to the store's
 * file, one message after the other, in the order they were sent, and answers each after its
 * transaction committed.
 */
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import type { FromWriter, ToWriter, WriterData } from './writer.js';
import { Writes } from './writes.js';

const data = workerData as WriterData;
const db = new Database(data.path, { fileMustExist: true });
db.pragma(`synchronous = ${data.synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
// waiting here blocks no request: the main thread's own writes are short (retention's chunks run here too)
db.pragma(`busy_timeout = ${data.busyTimeoutMs}`);
db.pragma('foreign_keys = ON');
db.pragma(`cache_size = -${Math.round(data.cacheMb * 1024)}`);
const writes = new Writes(db);
const port = parentPort;

port?.on('message', (m: ToWriter) => {
  if (m.type === 'close') {
    db.close();
    port.close();
    return;
  }
  if (m.fault === 'throw') throw new Error('injected writer fault');
  if (m.fault === 'exit') process.exit(3);
  let out: FromWriter;
  try {
    out = { id: m.id, answer: writes.run(m.op) };
  } catch (e) {
    const err = e as Error & { code?: unknown };
    out = { id: m.id, error: { message: err.message, ...(typeof err.code === 'string' ? { code: err.code } : {}) } };
  }
  port.postMessage(out);
});
