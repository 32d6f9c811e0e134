/**
 * Vigil's own small PromQL AST: what Vigil can evaluate over its snapshot and its sample history
 * survives parsing (`parsePromql` refuses the rest). `start`/`end` are character offsets into the
 * source text.
 */

/** The static type of an expression (Prometheus `ValueType`). */
export type PromqlType = 'scalar' | 'vector' | 'string' | 'matrix';

/** `@ <time>` (Unix ms), `@ start()` / `@ end()` (a rule's evaluation time), or none. */
export type AtModifier = number | 'start' | 'end' | undefined;

export type MatchOp = '=' | '!=' | '=~' | '!~';

export interface LabelMatcher {
  readonly name: string;
  readonly op: MatchOp;
  readonly value: string;
  /** Whether a label value (`""` when the label is absent) satisfies the matcher. */
  readonly matches: (value: string) => boolean;
}

export type ArithOp = '+' | '-' | '*' | '/' | '%' | '^' | 'atan2';
export type CompareOp = '==' | '!=' | '>' | '<' | '>=' | '<=';
export type SetOp = 'and' | 'or' | 'unless';
export type BinaryOp = ArithOp | CompareOp | SetOp;

export type AggregateOp =
  | 'sum'
  | 'avg'
  | 'min'
  | 'max'
  | 'count'
  | 'group'
  | 'stddev'
  | 'stdvar'
  | 'topk'
  | 'bottomk'
  | 'quantile'
  | 'count_values';

export type Cardinality = 'one-to-one' | 'many-to-one' | 'one-to-many' | 'many-to-many';

export interface VectorMatching {
  readonly card: Cardinality;
  /** true: `on(labels)`; false: `ignoring(labels)` (also the default, with no labels). */
  readonly on: boolean;
  readonly labels: readonly string[];
  /** `group_left(...)` / `group_right(...)` labels copied from the "one" side. */
  readonly include: readonly string[];
}

interface Node {
  readonly start: number;
  readonly end: number;
  readonly type: PromqlType;
}

export interface NumberLiteral extends Node {
  readonly kind: 'number';
  readonly value: number;
}

export interface StringLiteral extends Node {
  readonly kind: 'string';
  readonly value: string;
}

export interface VectorSelector extends Node {
  readonly kind: 'selector';
  /** The metric name written before the braces, if any (also present as the last matcher). */
  readonly name: string | undefined;
  readonly matchers: readonly LabelMatcher[];
  /** Canonical text of the matchers (cache key for selections). */
  readonly key: string;
  /** `offset` (ms; negative allowed), 0 when none. */
  readonly offsetMs: number;
  readonly at: AtModifier;
}

/** `selector[range]`: a range vector. Offset and `@` are the selector's. */
export interface MatrixSelector extends Node {
  readonly kind: 'matrix';
  readonly selector: VectorSelector;
  readonly rangeMs: number;
}

/** `expr[range:step]`: `expr` evaluated every `step` (0: the rule's group interval) over `range`. */
export interface SubqueryExpr extends Node {
  readonly kind: 'subquery';
  readonly expr: PromqlExpr;
  readonly rangeMs: number;
  readonly stepMs: number;
  readonly offsetMs: number;
  readonly at: AtModifier;
}

export interface ParenExpr extends Node {
  readonly kind: 'paren';
  readonly expr: PromqlExpr;
}

export interface UnaryExpr extends Node {
  readonly kind: 'unary';
  readonly op: '-' | '+';
  readonly expr: PromqlExpr;
}

export interface BinaryExpr extends Node {
  readonly kind: 'binary';
  readonly op: BinaryOp;
  readonly lhs: PromqlExpr;
  readonly rhs: PromqlExpr;
  readonly returnBool: boolean;
  /** Only between two instant vectors; null otherwise. */
  readonly matching: VectorMatching | null;
}

export interface AggregateExpr extends Node {
  readonly kind: 'aggregate';
  readonly op: AggregateOp;
  readonly expr: PromqlExpr;
  /** k (topk/bottomk), φ (quantile) or the label name (count_values). */
  readonly param: PromqlExpr | undefined;
  /** Sorted grouping labels. */
  readonly grouping: readonly string[];
  readonly without: boolean;
}

export interface Call extends Node {
  readonly kind: 'call';
  readonly func: string;
  readonly args: readonly PromqlExpr[];
}

export type PromqlExpr = NumberLiteral | StringLiteral | VectorSelector | MatrixSelector | SubqueryExpr | ParenExpr | UnaryExpr | BinaryExpr | AggregateExpr | Call;
