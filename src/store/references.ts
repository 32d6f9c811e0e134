import { VigilError } from '../core/errors.js';
import type { ReferenceValues } from './store.js';

/**
 * Reference values must be non-empty, finite, ascending, one per kind and name: the rule every
 * backend applies before it stores a baseline (VIGIL_ERR_STORE_BAD_REFERENCE).
 */
export function checkReferences(references: readonly ReferenceValues[]): void {
  const seen = new Set<string>();
  for (const r of references) {
    const what = r.kind === 'feature' || r.kind === 'segment' ? `${r.kind} ${r.name}` : r.kind;
    const bad = (why: string): never => {
      throw new VigilError('VIGIL_ERR_STORE_BAD_REFERENCE', `reference values of ${what}: ${why}`);
    };
    if (r.kind !== 'feature' && r.kind !== 'prediction' && r.kind !== 'label' && r.kind !== 'segment') bad(`unknown kind ${String(r.kind)}`);
    if ((r.kind === 'prediction' || r.kind === 'label') && r.name !== '') bad('the prediction and the label have the name ""');
    const key = JSON.stringify([r.kind, r.name]);
    if (seen.has(key)) bad('given twice');
    seen.add(key);
    const a = r.sorted;
    if (a.length === 0) bad('empty');
    let prev = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < a.length; i++) {
      const x = a[i] as number;
      if (!Number.isFinite(x)) bad(`value ${i} is ${x}`);
      if (x < prev) bad(`not ascending at ${i}`);
      prev = x;
    }
  }
}
