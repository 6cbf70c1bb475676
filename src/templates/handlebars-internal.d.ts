// Handlebars ships no types for its internal proto-access module (see fastRenderer in helpers.ts).
declare module 'handlebars/dist/cjs/handlebars/internal/proto-access' {
  export function createProtoAccessControl(runtimeOptions: object): unknown;
}
