/**
 * The modelling language, as a model author uses it. Why this module exists: it is the public
 * surface of model/lang (re-exported by the package root `mirrorcheck`); what is not listed here is
 * internal to the engines and may change.
 */
export { McError, ModelBuildError, ModelRuntimeError } from './errors.js';
export type { ErrorCode } from './errors.js';
export {
  Ref,
  add,
  and,
  count,
  eq,
  exists,
  forall,
  ge,
  gt,
  implies,
  isNone,
  isSome,
  ite,
  le,
  lit,
  lt,
  mul,
  ne,
  none,
  not,
  or,
  ord,
  pre,
  some,
  sub,
  unwrap,
} from './expr.js';
export type { ArithOp, CmpOp, Expr, Loc, Operand, PathElem, QuantOp } from './expr.js';
export { fairnessRequirements } from './fairness.js';
export type { FairnessMode, FairnessRequirement } from './fairness.js';
export { applyRule, enabled, holds, initState, instanceBindings } from './interp.js';
export { decodeState, encodeState } from './layout.js';
export type { Layout, Value } from './layout.js';
export { buildModel, defineProtocol, enumParam, intParam, resolveParams, variantParams, variantProblem } from './protocol.js';
export type {
  BuildConfig,
  Builder,
  Fairness,
  FairnessScope,
  InitDef,
  Model,
  ParamSpec,
  ParamValues,
  ProtocolActors,
  ProtocolDef,
  RuleDef,
  RuleInstance,
  VariantSpec,
} from './protocol.js';
export { assign, forEach, reset, when } from './stmt.js';
export type { Stmt } from './stmt.js';
export { arrayOf, bool, enumOf, inType, index, int, isScalar, option, range, record } from './types.js';
export type {
  ArrayType,
  BaseScalarType,
  BoolType,
  EnumType,
  ExprType,
  IndexType,
  IntType,
  OptionType,
  RangeType,
  RecordType,
  ScalarType,
  Type,
} from './types.js';
