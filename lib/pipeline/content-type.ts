import { WebhookError } from "../errors";
import { getHeader, type HeadersInput } from "../http/headers";

const EXPECTED = "application/json";
/** The media type named back in the 415's `detail`: the sender's own header, bounded and printable. */
const SHOWN_MAX = 100;

function unsupported(received: string | undefined): WebhookError {
  const shown = received?.replace(/[^\x20-\x7e]/g, "?").slice(0, SHOWN_MAX);
  const what = shown === undefined || shown === "" ? "no Content-Type" : `Content-Type "${shown}"`;
  return new WebhookError("content-type.unsupported", { detail: `received ${what}; expected ${EXPECTED} (any charset)` });
}

/** `application/json`, with any parameter (a charset among them); anything else is refused. */
export function checkContentType(headers: HeadersInput | undefined): void {
  const contentType = getHeader(headers, "content-type");
  if (contentType === undefined) throw unsupported(undefined);
  const semicolon = contentType.indexOf(";");
  const mediaType = (semicolon === -1 ? contentType : contentType.slice(0, semicolon)).trim().toLowerCase();
  if (mediaType !== EXPECTED) throw unsupported(mediaType);
}
