/** An error from the server or the transport. `code` is the server's code ("TABLE_NOT_FOUND",
 * "INVALID_SQL", "unauthorized", "SUBSCRIBER_LAGGING", …) or one of the client's own:
 * "NETWORK_ERROR", "PROTOCOL_ERROR", "CLOSED", "TIMEOUT". */
export class KalamError extends Error {
  readonly code: string;
  /** HTTP status of the response; 0 when no HTTP response was involved. */
  readonly status: number;
  readonly details?: string;

  constructor(code: string, message: string, status = 0, details?: string) {
    super(message);
    this.name = 'KalamError';
    this.code = code;
    this.status = status;
    if (details !== undefined) this.details = details;
  }
}
