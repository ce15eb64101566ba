import { describe, expect, it } from 'vitest';
import { step } from './scheduler.js';
import { SleepingMutex } from './sleepingMutex.js';

describe('sleeping mutex (umem_mutex / dmirror->mutex)', () => {
  it('starts free; lock names the holder; unlock frees it', () => {
    const m = new SleepingMutex('U');
    expect(m.name).toBe('U');
    expect(m.free).toBe(true);
    expect(m.holder).toBeNull();
    m.lock('fault');
    expect(m.free).toBe(false);
    expect(m.holder).toBe('fault');
    m.unlock();
    expect(m.free).toBe(true);
    expect(m.holder).toBeNull();
  });

  it('mutex_trylock takes a free lock and fails, leaving the holder, on a held one', () => {
    const m = new SleepingMutex('U');
    expect(m.tryLock('inv0')).toBe(true);
    expect(m.holder).toBe('inv0');
    expect(m.tryLock('inv1')).toBe(false);
    expect(m.tryLock('inv0')).toBe(false);
    expect(m.holder).toBe('inv0');
    m.unlock();
    expect(m.tryLock('inv1')).toBe(true);
    expect(m.holder).toBe('inv1');
  });

  it('lock of a held mutex is a harness error (the step should have waited), and does not change the holder', () => {
    const m = new SleepingMutex('U');
    m.lock('fault');
    expect(() => m.lock('inv0')).toThrow(/inv0 takes U, held by fault/);
    expect(m.holder).toBe('fault');
  });

  it('unlock of a free mutex throws', () => {
    const m = new SleepingMutex('U');
    expect(() => m.unlock()).toThrow(/not held/);
    m.lock('a');
    m.unlock();
    expect(() => m.unlock()).toThrow(/not held/);
  });

  it('a waiter is a step whose readiness is `free`: not ready while held, ready once unlocked, then it takes the lock', () => {
    const m = new SleepingMutex('U');
    m.lock('fault');
    const waiters = ['inv0', 'inv1'].map((who) => ({ who, point: step('DriverLock', {}, () => m.free) }));
    expect(waiters.map((w) => w.point.ready())).toEqual([false, false]);
    m.unlock();
    expect(waiters.map((w) => w.point.ready())).toEqual([true, true]);
    // The scheduler runs one of them; the other is no longer ready.
    const [first, second] = waiters;
    if (!first || !second) throw new Error('two waiters');
    m.lock(first.who);
    expect(first.point.ready()).toBe(false);
    expect(second.point.ready()).toBe(false);
    expect(m.holder).toBe('inv0');
  });
});
