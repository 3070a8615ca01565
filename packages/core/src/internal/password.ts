import { randomInt } from 'node:crypto'
import { registerSecret } from './sanitizer.js'

// No look-alike characters: the password is read off a screen by a helpdesk at worst.
const UPPER = 'ABCDEFGHJKLMNPQRSTUVWXYZ'
const LOWER = 'abcdefghijkmnpqrstuvwxyz'
const DIGIT = '23456789'
const SYMBOL = '!#$%*+-=?@^_'
const ALL = UPPER + LOWER + DIGIT + SYMBOL

function pick(set: string): string {
  return set[randomInt(set.length)] as string
}

/**
 * A temporary password that meets Entra's strong-password rule (all four character classes), from
 * a CSPRNG. It is registered with the sanitizer at once, so it is cut out of any text that is
 * redacted afterwards; callers never return or log it.
 */
export function generateTemporaryPassword(length = 24): string {
  if (length < 16 || length > 256) throw new RangeError('temporary password length must be 16..256')
  const chars = [pick(UPPER), pick(LOWER), pick(DIGIT), pick(SYMBOL)]
  while (chars.length < length) chars.push(pick(ALL))
  for (let i = chars.length - 1; i > 0; i--) {
    const j = randomInt(i + 1)
    ;[chars[i], chars[j]] = [chars[j] as string, chars[i] as string]
  }
  const password = chars.join('')
  registerSecret(password)
  return password
}
