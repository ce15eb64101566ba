/**
 * Packages (package.ts): a package's parts must belong together, and a named size must exist.
 * Why this file exists: the built-in packages are declared when their modules load, which is
 * outside any test, so the checks that refuse a wrong package were never run by one.
 */
import { describe, expect, it } from 'vitest';
import { codeOf } from '../test/errorCode.js';
import { defineProtocol, intParam } from '../model/lang/protocol.js';
import { assign } from '../model/lang/stmt.js';
import { bool } from '../model/lang/types.js';
import { definePackage, sizeOf } from './package.js';
import { definePropertySet } from './property.js';

const proto = (name: string) =>
  defineProtocol({
    name,
    summary: 'a flag',
    spec: 'properties/package.test.ts',
    params: { n: intParam(2, 1, 4, 'how many') },
    variants: [],
    build(b) {
      const f = b.v('f', bool);
      b.init('i', () => []);
      b.rule('Set', {}, () => ({ guard: true, body: [assign(f, true)] }));
      return { f };
    },
  });
const a = proto('pkg-a');
const b = proto('pkg-b');
const props = definePropertySet(a, () => []);

describe('definePackage', () => {
  it("takes the property set's protocol when none is given, and keeps the parts it is given", () => {
    const pkg = definePackage({ properties: props, sizes: { big: { n: 4 } } });
    expect(pkg.protocol).toBe(a);
    expect(pkg.properties).toBe(props);
    expect(pkg.sizes).toEqual({ big: { n: 4 } });
    expect(definePackage({ protocol: a, properties: props }).protocol).toBe(a);
  });

  it('refuses a property set of another protocol, and a size naming parameters the protocol does not have', () => {
    expect(codeOf(() => definePackage({ protocol: b, properties: props }))).toBe('MC010 package pkg-b: its property set belongs to pkg-a');
    expect(codeOf(() => definePackage({ properties: props, sizes: { ok: { n: 3 }, wide: { n: 3, m: 2, k: 1 } } }))).toBe(
      "MC010 package pkg-a: size 'wide' names unknown parameters: m, k",
    );
  });
});

describe('sizeOf', () => {
  it("gives a named size's values, and names the sizes there are when asked for another (MC003)", () => {
    const pkg = definePackage({ properties: props, sizes: { big: { n: 4 }, small: { n: 1 } } });
    expect(sizeOf(pkg, 'big')).toEqual({ n: 4 });
    expect(codeOf(() => sizeOf(pkg, 'huge'))).toBe("MC003 pkg-a has no size 'huge' (sizes: big, small)");
    expect(codeOf(() => sizeOf(definePackage({ properties: props }), 'big'))).toBe("MC003 pkg-a has no size 'big' (sizes: none)");
  });
});
