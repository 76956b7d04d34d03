// The state file's envelope: { schemaVersion, epoch, sha256, body }, the checksum over the canonical body text.
import { createHash } from 'node:crypto';
import { z } from 'zod';

/**
 * The envelope is the same for every schema version, so a file of any version can be verified
 * before its body is read. Every version's body carries `schemaVersion` and `epoch` too; the
 * envelope's copies must equal them, so a flipped bit in either is caught.
 */
const envelopeSchema = z.strictObject({
  schemaVersion: z.number().int().nonnegative(),
  epoch: z.number().int().nonnegative(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  body: z.record(z.string(), z.unknown()),
});

export type Envelope = z.output<typeof envelopeSchema>;

export type DecodedEnvelope =
  | { readonly isValid: true; readonly envelope: Envelope }
  | { readonly isValid: false; readonly reason: string };

/** JSON with every object's keys sorted and no whitespace: the same value always gives the same text. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) => {
    if (item === null || typeof item !== 'object' || Array.isArray(item)) return item;
    const record = item as Record<string, unknown>;
    return Object.fromEntries(
      Object.keys(record)
        .sort()
        .map((key) => [key, record[key]]),
    );
  });
}

/** The hex SHA-256 of the body's canonical text. */
export function checksumOf(body: unknown): string {
  return createHash('sha256').update(canonicalJson(body), 'utf8').digest('hex');
}

/** The file text for `body` (which holds its own schemaVersion and epoch): indented, one trailing newline. */
export function encodeEnvelope<Body extends { schemaVersion: number; epoch: number }>(body: Body): string {
  const envelope = {
    schemaVersion: body.schemaVersion,
    epoch: body.epoch,
    sha256: checksumOf(body),
    body,
  };
  return `${JSON.stringify(envelope, null, 2)}\n`;
}

/**
 * Parses and verifies a state file's bytes: valid UTF-8 JSON, the envelope's shape, the checksum,
 * and the envelope's version and epoch equal to the body's. Says what failed, never throws.
 */
export function decodeEnvelope(bytes: Uint8Array): DecodedEnvelope {
  if (bytes.length === 0) return { isValid: false, reason: 'is empty' };
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return { isValid: false, reason: 'is not valid UTF-8' };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { isValid: false, reason: 'is not valid JSON (truncated?)' };
  }
  const shaped = envelopeSchema.safeParse(parsed);
  if (!shaped.success) return { isValid: false, reason: 'is not a state envelope' };
  const envelope = shaped.data;
  if (checksumOf(envelope.body) !== envelope.sha256) return { isValid: false, reason: 'failed its checksum' };
  if (envelope.body.schemaVersion !== envelope.schemaVersion || envelope.body.epoch !== envelope.epoch) {
    return { isValid: false, reason: "has an envelope that disagrees with its body's version or epoch" };
  }
  return { isValid: true, envelope };
}
