/**
 * PromQL for Vigil's rule engine: parse at load time (refusing what one instant snapshot cannot
 * answer), evaluate over the snapshot with Prometheus's semantics.
 */
export type {
  AggregateExpr,
  AggregateOp,
  BinaryExpr,
  BinaryOp,
  Call,
  Cardinality,
  LabelMatcher,
  MatchOp,
  NumberLiteral,
  ParenExpr,
  PromqlExpr,
  PromqlType,
  StringLiteral,
  UnaryExpr,
  VectorMatching,
  VectorSelector,
} from './ast.js';
export { PromqlError, promqlErrorPosition, type PromqlErrorCode } from './errors.js';
export { evaluate, type EvalInput } from './eval.js';
export { labelsKey } from './labels.js';
export { parsePromql, SUPPORTED_FUNCTIONS } from './parse.js';
export { SeriesIndex } from './series.js';
