// Handlebars ships no types for its internal proto-access module (see fastRenderer in helpers.ts and fast-compile.ts).
declare module 'handlebars/dist/cjs/handlebars/internal/proto-access' {
  export function createProtoAccessControl(runtimeOptions: object): unknown;
  export function resultIsAllowed(result: unknown, protoAccessControl: unknown, propertyName: string): boolean;
  export function isPrototypeConstructor(parent: unknown, propertyName: string, result: unknown): boolean;
}
