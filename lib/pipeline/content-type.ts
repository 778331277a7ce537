import { WebhookError } from "../errors";
import { getHeader, type HeadersInput } from "../headers";

/** `application/json`, with any parameter (a charset among them); anything else is refused. */
export function checkContentType(headers: HeadersInput | undefined): void {
  const contentType = getHeader(headers, "content-type");
  if (contentType === undefined) throw new WebhookError("content-type.unsupported");
  const semicolon = contentType.indexOf(";");
  const mediaType = (semicolon === -1 ? contentType : contentType.slice(0, semicolon)).trim().toLowerCase();
  if (mediaType !== "application/json") throw new WebhookError("content-type.unsupported");
}
