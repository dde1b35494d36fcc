/**
 * The bytes of one flow artifact: a header with the payload's length and CRC-32, then
 * the serialized value. A file cut short by a crash or a full disk, or overwritten with
 * zeros, then reads as damaged instead of as a shorter, wrong value (`j30` cut to `j3`
 * still decodes, as 3). Artifacts written before the header existed still read.
 */
import { crc32 } from 'node:zlib';
import { defaultSerializer } from '../stores/serializer.ts';

/** What reading an artifact's bytes found: its value, or why there is none. */
export type Unframed =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly damage: string };

/** `#` cannot start serialized text (it starts with `j`, `[` or `-`), so it marks the header. */
const marker = 0x23;
const version = 'weft1';
/** The header is short: a first line longer than this is not one. */
const maxHeader = 64;

/** The stored bytes of `value`. */
export function frame(value: unknown, key: string): Uint8Array {
  const payload = Buffer.from(defaultSerializer.encode(value, key), 'utf8');
  const header = Buffer.from(
    `#${version} ${payload.byteLength} ${crc32(payload).toString(16).padStart(8, '0')}\n`,
  );
  return Buffer.concat([header, payload]);
}

/** The value stored in `bytes`, or what is wrong with them. */
export function unframe(bytes: Uint8Array): Unframed {
  const data = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let payload = data;
  if (data[0] === marker) {
    const end = data.subarray(0, maxHeader).indexOf(0x0a);
    const fields = end < 0 ? [] : data.subarray(1, end).toString('latin1').split(' ');
    if (fields.length !== 3 || fields[0] !== version) {
      return { ok: false, damage: 'its header is unreadable' };
    }
    payload = data.subarray(end + 1);
    const length = Number(fields[1]);
    if (payload.byteLength !== length) {
      return {
        ok: false,
        damage: `it holds ${payload.byteLength} of its ${length} bytes`,
      };
    }
    if (crc32(payload).toString(16).padStart(8, '0') !== fields[2]) {
      return { ok: false, damage: 'its checksum does not match its content' };
    }
  }
  try {
    return { ok: true, value: defaultSerializer.decode(payload.toString('utf8')) };
  } catch {
    return { ok: false, damage: 'its content does not decode' };
  }
}
