import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import { VigilError } from '../core/errors.js';

/** A certificate (chain) and key read from `server.tls` (PEM). */
export interface TlsMaterial {
  cert: Buffer;
  key: Buffer;
}

/**
 * Reads `server.tls`'s files and checks that they make a usable pair (null without TLS). Throws
 * VIGIL_ERR_CONFIG_TLS with the key in `details.field`. The schema calls it so that a bad file is
 * a configuration error (file:line, exit 2; a reload keeps the running configuration); the
 * server calls it again for the material it serves.
 */
export function readTls(tls: { cert_file: string; key_file: string } | undefined): TlsMaterial | null {
  if (tls === undefined) return null;
  const read = (key: 'cert_file' | 'key_file'): Buffer => {
    try {
      return readFileSync(tls[key]);
    } catch (e) {
      throw new VigilError('VIGIL_ERR_CONFIG_TLS', `cannot read ${tls[key]}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { details: { field: key } });
    }
  };
  const material = { cert: read('cert_file'), key: read('key_file') };
  try {
    createSecureContext(material);
  } catch (e) {
    throw new VigilError('VIGIL_ERR_CONFIG_TLS', `${tls.cert_file} and ${tls.key_file} are not a usable PEM certificate and key: ${(e as Error).message}`, { details: { field: 'cert_file' } });
  }
  return material;
}
