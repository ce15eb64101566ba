/**
 * A symmetric n-process spin lock, the benchmark (and test) model of symmetry reduction. Why this
 * module exists: the built-in protocols have symmetric index types of two or three values, where
 * trying every permutation is cheap; a classic mutual-exclusion model shows what happens at n = 8
 * (8! = 40,320 permutations per state when every one is tried). Each process goes idle -> trying
 * -> critical -> exiting -> idle, counting its visits (up to 3); who holds the lock and who held it last are flags per process (Murphi scalarsets have no 'none', so the model exports
 * to Rumur, whose exhaustive symmetry mode gives the reference counts). Written with the public
 * API, as a driver author's model would be.
 */
import {
  add,
  and,
  arrayOf,
  assign,
  bool,
  defineProtocol,
  definePropertySet,
  enumOf,
  eq,
  forEach,
  forall,
  implies,
  intParam,
  invariant,
  ite,
  lt,
  not,
  range,
} from '../../index.js';

export const symmetricMutex = defineProtocol({
  name: 'symmetric-mutex',
  summary: 'n processes share a spin lock; the process index is symmetric',
  spec: 'bench/models/symmetricMutex.ts',
  params: { procs: intParam(4, 2, 10, 'processes') },
  variants: [],
  build(b, cfg) {
    const Proc = b.index('Proc', cfg.int('procs'), { symmetric: true });
    const pc = b.v('pc', arrayOf(Proc, enumOf('Pc', ['idle', 'trying', 'critical', 'exiting'])));
    const visits = b.v('visits', arrayOf(Proc, range(0, 3)));
    const locked = b.v('locked', bool);
    const holds = b.v('holds', arrayOf(Proc, bool));
    const wasLast = b.v('wasLast', arrayOf(Proc, bool));
    b.init('all-idle', () => []);
    b.rule('ProcTry', { p: Proc }, ({ p }) => ({ guard: eq(pc.at(p), 'idle'), body: [assign(pc.at(p), 'trying')] }));
    b.rule('ProcAcquire', { p: Proc }, ({ p }) => ({
      guard: and(eq(pc.at(p), 'trying'), not(locked)),
      body: [assign(locked, true), assign(holds.at(p), true), assign(pc.at(p), 'critical')],
    }));
    b.rule('ProcExit', { p: Proc }, ({ p }) => ({
      guard: eq(pc.at(p), 'critical'),
      body: [assign(pc.at(p), 'exiting'), assign(visits.at(p), ite(lt(visits.at(p), 3), add(visits.at(p), 1), 3))],
    }));
    b.rule('ProcRelease', { p: Proc }, ({ p }) => ({
      guard: eq(pc.at(p), 'exiting'),
      body: [assign(locked, false), assign(holds.at(p), false), forEach(Proc, (q) => [assign(wasLast.at(q), eq(q, p))]), assign(pc.at(p), 'idle')],
    }));
    return { Proc, pc, holds };
  },
});

export const symmetricMutexProperties = definePropertySet(symmetricMutex, (model) => {
  const { Proc, pc, holds } = model.handles;
  return [
    invariant(
      'mutual-exclusion',
      'MX-1',
      'no two processes are in their critical sections at once',
      forall(Proc, (p) => forall(Proc, (q) => implies(and(eq(pc.at(p), 'critical'), eq(pc.at(q), 'critical')), eq(p, q)))),
    ),
    invariant(
      'owner-holds-lock',
      'MX-2',
      'a process in its critical section holds the lock',
      forall(Proc, (p) => implies(eq(pc.at(p), 'critical'), holds.at(p))),
    ),
  ];
});
