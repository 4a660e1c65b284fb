/** Ids of attachments: a readable prefix plus base62 of 16 random bytes, like sandbox ids. */
import { randomBytes } from 'node:crypto';
import { base62 } from '../ids';

export function attachmentId(prefix: 'var' | 'sec' | 'fil'): string {
  return `${prefix}_${base62(randomBytes(16))}`;
}
