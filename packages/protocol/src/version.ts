/** The wire protocol version of PROTOCOL.md. Sent in `hello.protocol`. */
export const PROTOCOL_VERSION = 1 as const;
