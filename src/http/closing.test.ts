import { connect } from 'node:net';
import { afterEach, expect, it } from 'vitest';
import { testDaemon, type TestDaemon } from '../../test/harness.js';

let t: TestDaemon | undefined;
afterEach(async () => {
  await t?.close();
});

it('while shutting down, an in-flight request finishes and the next one on its connection gets 503 in the error shape, then the connection closes', async () => {
  t = await testDaemon();
  const app = t.daemon.app;
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as { port: number };
  const socket = connect(port, '127.0.0.1');
  let answer = '';
  socket.on('data', (c: Buffer) => (answer += c.toString()));
  const closed = new Promise((resolve) => socket.on('close', resolve));

  // Request A is in flight (half its body sent) when the shutdown starts.
  const body = '[{"id":"in-flight","prediction":1,"score":0.9,"features":{"amount":1}}]';
  await new Promise((resolve) =>
    socket.write(`POST /v1/models/fraud/predictions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 10)}`, resolve),
  );
  await new Promise((resolve) => setTimeout(resolve, 50));
  const closing = app.close();
  await new Promise((resolve) => setTimeout(resolve, 50));
  // The rest of A, and B pipelined behind it on the same kept-alive connection.
  socket.write(`${body.slice(10)}GET /v1/models HTTP/1.1\r\nHost: x\r\n\r\n`);
  await closed;
  await closing;

  const [a, b] = answer.split(/(?=HTTP\/1\.1 )/);
  expect(a).toMatch(/^HTTP\/1\.1 200 /);
  expect(a).toContain('"accepted":1');
  expect(b).toMatch(/^HTTP\/1\.1 503 /);
  expect(b?.toLowerCase()).toContain('connection: close');
  const json = JSON.parse(b?.split('\r\n\r\n')[1] ?? '') as unknown;
  expect(json).toEqual({ error: { code: 'VIGIL_ERR_HTTP_CLOSING', message: expect.stringContaining('shutting down') } });
  expect(await t.daemon.store.getPrediction('fraud', 'in-flight')).toMatchObject({ id: 'in-flight' });
});
