/** Building objects whose optional members are absent rather than undefined (exactOptionalPropertyTypes). */

type OptionalKey<T> = { [K in keyof T]-?: object extends Pick<T, K> ? K : never }[keyof T];

/** `T` with every member named: the required ones as they are, the optional ones possibly undefined. */
export type Loose<T> = { [K in keyof T]-?: K extends OptionalKey<T> ? T[K] | undefined : T[K] };

/** Drops the members that are undefined: `definedOnly<T>({ a: 1, b: undefined })` is `{ a: 1 }`, typed `T`. */
export function definedOnly<T extends object>(o: Loose<T>): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
