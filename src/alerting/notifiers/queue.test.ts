import { describe, expect, it } from 'vitest';
import { BoundedQueue } from './queue.js';

describe('BoundedQueue', () => {
  it('drops the oldest items beyond capacity and returns them', () => {
    const q = new BoundedQueue<number>(3);
    expect(q.push(1, 2)).toEqual([]);
    expect(q.push(3, 4, 5)).toEqual([1, 2]);
    expect(q.toArray()).toEqual([3, 4, 5]);
    expect(q.take(2)).toEqual([3, 4]);
    expect(q.unshift(9, 8, 7)).toEqual([9]);
    expect(q.toArray()).toEqual([8, 7, 5]);
    expect(q.shift()).toBe(8);
    expect(q.length).toBe(2);
    expect(() => new BoundedQueue(0)).toThrow(RangeError);
  });
});
