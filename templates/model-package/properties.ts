/**
 * The properties: what must hold, each citing its requirement in spec.md. Why this file exists: the
 * engines check exactly these predicates; a variant that breaks none of them is reported as a hole.
 */
import { and, cover, definePropertySet, eq, exists, forall, implies, invariant, isSome, ne, option, some } from 'mirrorcheck';
import { type MyDriverHandles, myDriver } from './protocol.js';

export const myDriverProperties = definePropertySet<MyDriverHandles>(myDriver, (model) => {
  const { Page, Frame, pte, dev } = model.handles;
  return [
    invariant(
      'device-follows-pte',
      'R1',
      'the device never translates a page to a frame the CPU page table no longer maps it to',
      forall(Page, (p) => implies(isSome(dev.at(p)), eq(dev.at(p), some(pte.at(p), option(Frame))))),
    ),
    // A cover must be reached: if it is not, the model may be vacuous (nothing interesting happens).
    cover(
      'device-follows-a-move',
      'R1',
      'a page has moved and the device translates it to its new frame',
      exists(Page, (p) => and(ne(pte.at(p), 0), isSome(dev.at(p)))),
    ),
  ];
});
