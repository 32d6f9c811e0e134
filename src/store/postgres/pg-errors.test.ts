import { describe, expect, it } from 'vitest';
import { describeTarget, isConnectionLost, isUnavailable, reasonOf, redactor, storeUnavailable } from './pg-errors.js';

const withCode = (code: string, message = 'x'): Error => Object.assign(new Error(message), { code });

describe('isUnavailable', () => {
  it('is true for a server that cannot be reached or went away', () => {
    for (const code of ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', '57P01', '57P02', '57P03', '53300', '08006', '08001', '08P01']) {
      expect([code, isUnavailable(withCode(code))]).toEqual([code, true]);
    }
    for (const message of ['Connection terminated unexpectedly', 'Connection terminated due to connection timeout', 'timeout exceeded when trying to connect', 'Client has encountered a connection error and is not queryable']) {
      expect([message, isUnavailable(new Error(message))]).toEqual([message, true]);
    }
    // several addresses tried, each refused
    expect(isUnavailable(new AggregateError([withCode('ECONNREFUSED'), withCode('ECONNREFUSED')]))).toBe(true);
  });

  it('is false for a statement\'s own errors and for the caller\'s', () => {
    for (const code of ['23505', '42P01', '22P02', '28P01', '3D000', '57014', '40001']) expect([code, isUnavailable(withCode(code))]).toEqual([code, false]);
    expect(isUnavailable(new Error('caller refused'))).toBe(false);
    expect(isUnavailable('text')).toBe(false);
    expect(isUnavailable(null)).toBe(false);
  });
});

describe('isConnectionLost', () => {
  it('is true only for a connection that was open and went away (worth a read on another), not for one that could not be made', () => {
    for (const e of [withCode('57P01'), withCode('57P02'), withCode('ECONNRESET'), withCode('EPIPE'), new Error('Connection terminated unexpectedly')]) expect(isConnectionLost(e)).toBe(true);
    for (const e of [withCode('ECONNREFUSED'), withCode('57P03'), withCode('08001'), new Error('timeout exceeded when trying to connect'), withCode('23505'), null]) expect(isConnectionLost(e)).toBe(false);
  });
});

describe('redactor', () => {
  it('removes each secret as given and as a URL carries it, the longest first', () => {
    const redact = redactor(['p@ss word', undefined, '', 'ss']);
    expect(redact('postgres://u:p%40ss%20word@h/db failed for p@ss word')).toBe('postgres://u:***@h/db failed for ***');
    expect(redact('nothing secret here')).toBe('nothing secret here');
    expect(redactor([])('p@ss')).toBe('p@ss');
  });

  it('gives reasons with their code and without the secret', () => {
    const redact = redactor(['hunter2']);
    expect(reasonOf(withCode('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:1'), redact)).toBe('connect ECONNREFUSED 127.0.0.1:1');
    expect(reasonOf(withCode('28P01', 'password hunter2 refused'), redact)).toBe('28P01: password *** refused');
    expect(reasonOf(new AggregateError([withCode('ECONNREFUSED', 'connect ECONNREFUSED ::1:5432')]), redact)).toBe('connect ECONNREFUSED ::1:5432');
  });
});

describe('storeUnavailable', () => {
  it('is a 503 to retry in a second', () => {
    expect(storeUnavailable('gone')).toMatchObject({ code: 'VIGIL_ERR_STORE_UNAVAILABLE', statusCode: 503, details: { retryAfterSeconds: 1 }, message: 'the PostgreSQL store is unavailable: gone' });
  });
});

describe('describeTarget', () => {
  it('names host, port and database, never the user information', () => {
    expect(describeTarget('postgres://vigil:secret@db.example:6432/vigil?sslmode=require')).toBe('db.example:6432/vigil');
    expect(describeTarget('postgres://db.example/vigil')).toBe('db.example/vigil');
    expect(describeTarget('not a url secret')).toBe('(an invalid URL)');
  });
});
