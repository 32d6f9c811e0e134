import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LINGER_MS } from '../src/http/transport.js';
import { median, rssMb, startVigil } from './process.js';

const ITEMS = 1_000_000;
const TOKEN = 'bench-ingest-token-0123456789';

/** Bytes a process has read with read()/recv() so far, sockets included (Linux /proc; NaN elsewhere). */
function readBytes(pid: number): number {
  try {
    const m = /rchar:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/io`, 'utf8'));
    return m ? Number(m[1]) : NaN;
  } catch {
    return NaN;
  }
}

/** A 1,000,000-item JSON batch of predictions (67 MB). */
function bigBody(): Buffer {
  const parts: string[] = [];
  for (let i = 0; i < ITEMS; i++) parts.push(`{"id":"p${String(i).padStart(14, '0')}","features":{"amount":${(i % 1000) / 10}},"prediction":1}`);
  return Buffer.from(`[${parts.join(',')}]`);
}

interface Outcome {
  /** From the first byte sent to the end of the answer's headers. */
  ms: number;
  status: string;
}

/** POSTs the body without a token on a raw socket, as fast as the socket takes it. */
function postWithoutToken(port: number, body: Buffer): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1' });
    const head = Buffer.from(`POST /v1/models/bench/predictions HTTP/1.1\r\nHost: vigil\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`);
    let t0 = 0;
    let answered: { ms: number; status: string } | undefined;
    let received = '';
    socket.on('data', (d) => {
      received += d.toString('latin1');
      if (answered === undefined && received.includes('\r\n\r\n')) answered = { ms: performance.now() - t0, status: received.split('\r\n')[0] ?? '' };
    });
    socket.on('error', () => undefined); // EPIPE/ECONNRESET once the server closed: expected
    socket.on('close', () => {
      if (answered === undefined) reject(new Error(`closed without an answer: ${received.slice(0, 200)}`));
      else resolve(answered);
    });
    socket.on('connect', () => {
      t0 = performance.now();
      socket.write(head);
      socket.write(body);
    });
  });
}

async function healthzMs(url: string): Promise<number> {
  const t0 = performance.now();
  await (await fetch(`${url}/healthz`)).text();
  return performance.now() - t0;
}

/**
 * The issue-13 scenario on the built daemon: with tokens configured, a 67 MB / 1,000,000-item
 * JSON body posted without a token. Prints the time to the 401, the body bytes that got onto the
 * wire before Vigil closed the connection, the daemon's RSS growth, and the same with four at
 * once while /healthz is polled. Targets beside the figures (docs/security.md).
 */
export async function benchEdge(print: (line: string) => void): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-bench-edge-'));
  try {
    const config = join(dir, 'vigil.yaml');
    writeFileSync(
      config,
      `server: { port: 0, tokens: { ingest: ["${TOKEN}"] } }\nstorage: { path: ${join(dir, 'vigil.db')} }\nmodels:\n  - { name: bench, task: binary, features: [{ name: amount, type: numeric }] }\n`,
    );
    const body = bigBody();
    const vigil = await startVigil(config);
    const pid = vigil.child.pid as number;
    const port = Number(new URL(vigil.url).port);
    try {
      await healthzMs(vigil.url);
      let peak = 0;
      const sampler = setInterval(() => (peak = Math.max(peak, rssMb(pid))), 5);
      const before = rssMb(pid);
      peak = before;
      const runs: Outcome[] = [];
      const readMb: number[] = [];
      for (let i = 0; i < 5; i++) {
        const r0 = readBytes(pid);
        runs.push(await postWithoutToken(port, body));
        readMb.push((readBytes(pid) - r0) / 1e6);
      }
      const afterOne = peak;
      const four = performance.now();
      const polls: number[] = [];
      let polling = true;
      const poller = (async () => {
        while (polling) {
          polls.push(await healthzMs(vigil.url));
          await new Promise((r) => setTimeout(r, 10));
        }
      })();
      const together = await Promise.all([0, 1, 2, 3].map(() => postWithoutToken(port, body)));
      const fourMs = performance.now() - four;
      polling = false;
      await poller;
      clearInterval(sampler);
      const ms = runs.map((r) => r.ms);
      print(
        `edge: ${(body.length / 1e6).toFixed(0)} MB / ${ITEMS.toLocaleString('en')}-item JSON body without a token, tokens configured, on a real socket: ` +
          `${runs[0]?.status}; answered in median ${median(ms).toFixed(1)} ms, max ${Math.max(...ms).toFixed(1)} ms over ${runs.length} requests (target < 50 ms); ` +
          `the daemon read at most ${Math.max(...readMb).toFixed(1)} MB per request (/proc/PID/io rchar: sockets and files) before closing the connection; ` +
          `daemon RSS ${before.toFixed(0)} MB before, peak ${afterOne.toFixed(0)} MB (+${(afterOne - before).toFixed(1)} MB; target < 20 MB)`,
      );
      print(
        `edge: four such requests at once: all answered (${together.map((r) => r.status.split(' ')[1]).join(', ')}) within ${Math.max(...together.map((r) => r.ms)).toFixed(1)} ms, all closed in ${fourMs.toFixed(0)} ms (a refused connection stays half-open ${LINGER_MS} ms for the client to read its answer); ` +
          `/healthz meanwhile max ${polls.length > 0 ? Math.max(...polls).toFixed(1) : 'n/a'} ms over ${polls.length} polls; daemon RSS peak ${peak.toFixed(0)} MB (+${(peak - before).toFixed(1)} MB over the start)`,
      );
    } finally {
      await vigil.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
