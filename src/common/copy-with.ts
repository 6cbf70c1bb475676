/**
 * `{ ...o, ...extra }` — the same keys in the same order, the same values — by assignment:
 * in V8 (Node 20) a spread into a literal that adds or overrides keys takes a slow path, several
 * times slower than copying (the step runner does it per step on its hot path).
 */
export function copyWith<T extends object, E extends object>(o: T, extra: E): T & E {
  return Object.assign(Object.assign({}, o), extra);
}
