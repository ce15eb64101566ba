/**
 * A model for a test, from a build function alone. Why this module exists: many tests need a
 * protocol of a few variables and rules with no parameters, variants or documentation, and each
 * wrote the same `defineProtocol` wrapper around it.
 */
import { type Builder, type Model, buildModel, defineProtocol } from '../model/lang/protocol.js';

/** A protocol with no parameters or variants (its build declares the start state and, if any, the legal end states). */
export function tinyModel<H extends Record<string, unknown>>(name: string, build: (b: Builder) => H): Model & { handles: H } {
  return buildModel(
    defineProtocol({
      name,
      summary: '',
      spec: '',
      params: {},
      variants: [],
      build: (b) => build(b),
    }),
  ) as Model & { handles: H };
}
