/**
 * Objects built from plan text and from the arguments of tasks. Assigning `out[key]` with
 * a key such as `__proto__` would set the object's prototype (a plan could then hand a
 * tool an `isAdmin` that its JSON does not show), so every key is defined as an own,
 * enumerable data property instead.
 */

/** Sets `key` on `target` as an own data property, whatever its name. */
export function defineKey(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, {
    value,
    enumerable: true,
    writable: true,
    configurable: true,
  });
}
