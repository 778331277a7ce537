/**
 * What a receiver answers, whatever carries it (Express, `node:http`, `receive()`): the HTTP
 * adapters write it as it is, and a provider's own success answer has the same shape.
 */
export interface WebhookResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}
