/**
 * Sets an own, enumerable property. Plain assignment of a key named
 * `__proto__` (which JSON and YAML documents may hold) would replace the
 * object's prototype instead of adding the key.
 */
export function setOwn<T>(
  target: Record<string, T>,
  key: string,
  value: T,
): void {
  Object.defineProperty(target, key, {
    value,
    enumerable: true,
    writable: true,
    configurable: true,
  });
}
