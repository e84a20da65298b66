/** The wire protocol version of docs/PROTOCOL.md. Sent in `hello.protocol`. */
export const PROTOCOL_VERSION = 1 as const;
