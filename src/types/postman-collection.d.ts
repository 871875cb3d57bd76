// postman-collection ships its type definitions (types/index.d.ts, an ambient `declare module`) without a "types"
// field in package.json, so no import can reach them; this reference makes TypeScript read them.
// eslint-disable-next-line @typescript-eslint/triple-slash-reference
/// <reference path="../../node_modules/postman-collection/types/index.d.ts" />
