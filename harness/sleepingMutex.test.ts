import { describe, expect, it } from 'vitest';
import { type Flow, labelOf } from './scheduler.js';
import { SleepingMutex } from './sleepingMutex.js';

/** Runs a flow to its end, checking that each of its points is ready when taken; returns the labels and the value. */
function run<T>(flow: Flow<T>): { labels: string[]; value: T } {
  const labels: string[] = [];
  for (;;) {
    const r = flow.next();
    if (r.done) return { labels, value: r.value };
    expect(r.value.ready()).toBe(true);
    labels.push(labelOf(r.value));
  }
}

describe('sleeping mutex (umem_mutex / dmirror->mutex): every operation is a step', () => {
  it('lock, trylock and unlock each yield one point before acting; the holder is named', () => {
    const m = new SleepingMutex('U');
    expect(m.free).toBe(true);
    const lock = m.lock('fault', { label: 'DriverLock(h=0)' });
    const p = lock.next();
    if (p.done) throw new Error('lock did not yield');
    // Nothing happens until the step runs.
    expect(labelOf(p.value)).toBe('DriverLock(h=0)');
    expect(p.value.internal).toBe(false);
    expect(m.holder).toBeNull();
    expect(lock.next().done).toBe(true);
    expect(m.holder).toBe('fault');
    expect(run(m.trylock('inv0')).value).toBe(false);
    expect(m.holder).toBe('fault');
    const unlock = run(m.unlock());
    expect(unlock.labels).toEqual(['mutex_unlock:U()']);
    expect(m.free).toBe(true);
    const t = run(m.trylock('inv1'));
    expect(t).toEqual({ labels: ['mutex_trylock:U()'], value: true });
    expect(m.holder).toBe('inv1');
  });

  it('a waiter sleeps: its lock step is not ready while the lock is held, and ready once it is free', () => {
    const m = new SleepingMutex('U');
    run(m.lock('fault'));
    const waiters = ['inv0', 'inv1'].map((who) => {
      const f = m.lock(who);
      const p = f.next();
      if (p.done) throw new Error('lock did not yield');
      return { f, point: p.value };
    });
    expect(waiters.map((w) => w.point.ready())).toEqual([false, false]);
    run(m.unlock());
    expect(waiters.map((w) => w.point.ready())).toEqual([true, true]);
    // The scheduler runs one of them; the other is no longer ready.
    waiters[0]?.f.next();
    expect(m.holder).toBe('inv0');
    expect(waiters[1]?.point.ready()).toBe(false);
    // Running a step that was not ready is a harness error, and leaves the holder.
    expect(() => waiters[1]?.f.next()).toThrow(/inv1 takes U, held by inv0/);
    expect(m.holder).toBe('inv0');
  });

  it('unlock of a free mutex throws', () => {
    const m = new SleepingMutex('U');
    expect(() => run(m.unlock())).toThrow(/not held/);
  });

  it('a sleeping lock where the caller may not sleep is reported to might_sleep, a trylock is not', () => {
    const m = new SleepingMutex('U');
    const seen: string[] = [];
    m.mightSleep = (who, what) => seen.push(`${who}: ${what}`);
    run(m.trylock('inv0', { mayBlock: false }));
    run(m.unlock());
    expect(seen).toEqual([]);
    // Reported when the caller reaches the call, whether or not the lock is free.
    const f = m.lock('inv1', { mayBlock: false });
    f.next();
    expect(seen).toEqual(['inv1: mutex_lock(U)']);
    f.next();
    run(m.unlock());
    run(m.lock('inv2', { mayBlock: true }));
    expect(seen).toEqual(['inv1: mutex_lock(U)']);
  });
});
