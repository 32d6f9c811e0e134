/**
 * `${VAR}` interpolation in configuration strings, so secrets stay out of files.
 *  - `${VAR}` is replaced by the variable's value; an unset variable is an error.
 *  - `${VAR:-default}` uses `default` when VAR is unset or empty.
 *  - `$$` is a literal `$` (so `$${VAR}` yields the text `${VAR}`).
 *  - any other `$` is kept as it is.
 * Interpolation runs on parsed YAML string scalars, never on the raw text, so a value can't
 * inject YAML structure and error positions stay exact.
 */
const TOKEN_RE = /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

export interface InterpolationResult {
  value: string;
  /** Variables referenced without a default that are not set. */
  missing: string[];
}

export function interpolate(text: string, env: Readonly<Record<string, string | undefined>>): InterpolationResult {
  const missing: string[] = [];
  if (!text.includes('$')) return { value: text, missing };
  const value = text.replace(TOKEN_RE, (match: string, name: string | undefined, fallback: string | undefined) => {
    if (match === '$$') return '$';
    const v = env[name as string];
    if (fallback !== undefined) return v === undefined || v === '' ? fallback : v;
    if (v === undefined) {
      missing.push(name as string);
      return '';
    }
    return v;
  });
  return { value, missing };
}
