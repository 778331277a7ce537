// `imagegen-webhooks/fastify`: the receiver as a Fastify plugin. Fastify's JSON parser would read the
// body before a route runs, and a signature needs the bytes as sent; so the routes live in a context
// of their own whose only content-type parser leaves the stream unread, and Node's adapter (the
// middleware) reads it. The application's parsers, Fastify's default or its own, keep every other route.
import type { FastifyInstance, FastifyPluginCallback, FastifyReply, FastifyRequest } from "fastify";
import fp from "fastify-plugin";
import type { ProviderSet } from "../../events/event-map";
import type { Webhooks } from "../../webhooks/webhooks";
import { ConfigError } from "../../options/checks";

/** The provider routes, in a context of their own: its content-type parser is theirs alone. */
function providerRoutes(instance: FastifyInstance, options: { webhooks: Webhooks<ProviderSet> }, done: (err?: Error) => void): void {
  const middleware = options.webhooks.middleware();
  instance.removeAllContentTypeParsers();
  instance.addContentTypeParser("*", (_request: FastifyRequest, _payload: unknown, parsed: (err: Error | null) => void) => parsed(null));

  function imagegenWebhooksRoute(request: FastifyRequest, reply: FastifyReply): void {
    const raw = request.raw as FastifyRequest["raw"] & { ip?: string };
    const url = raw.url ?? "/";
    // The middleware routes below its mount point, as Express's app.use() gives it the path.
    raw.url = url.slice(instance.prefix.length) || "/";
    if (raw.url.startsWith("?")) raw.url = `/${raw.url}`;
    // Fastify's request.ip follows its trustProxy setting, as Express's req.ip does for allowedIps.
    raw.ip = request.ip;
    let notOurs = false;
    try {
      middleware(raw, reply.raw, () => {
        notOurs = true;
      });
    } finally {
      // The middleware reads the URL synchronously, before the body.
      raw.url = url;
    }
    if (notOurs) return void reply.callNotFound();
    // The middleware answers on reply.raw itself, once the body is read.
    reply.hijack();
  }

  instance.all("/", imagegenWebhooksRoute);
  instance.all("/*", imagegenWebhooksRoute);
  done();
}

/**
 * The Fastify plugin: `app.register(imagegenWebhooks, { webhooks, prefix: "/webhooks" })` serves one
 * `POST` route per provider below the prefix, with the middleware's answers. A default export, a
 * `.default` and a named `imagegenWebhooks`, as fastify-plugin exports itself, so every import style works.
 */
function imagegenWebhooks(app: FastifyInstance, options: imagegenWebhooks.ImagegenWebhooksOptions, done: (err?: Error) => void): void {
  const { webhooks, prefix = "" } = options;
  if (typeof webhooks?.middleware !== "function") {
    return done(
      new ConfigError(
        'register it with { webhooks }, the receiver createWebhooks() of "imagegen-webhooks" made',
        "imagegen-webhooks/fastify",
      ),
    );
  }
  // fastify-plugin's plugins do not take Fastify's prefix: the inner context takes it instead.
  void app.register(providerRoutes, { webhooks, prefix });
  done();
}

/** The plugin's options type and its other names, merged into the plugin function as fastify-plugin does. */
// eslint-disable-next-line @typescript-eslint/no-namespace
declare namespace imagegenWebhooks {
  /** The options of `app.register(imagegenWebhooks, { webhooks, prefix })`. */
  export interface ImagegenWebhooksOptions {
    /** The receiver, from `createWebhooks()` of the main entry. */
    webhooks: Webhooks<ProviderSet>;
    /** Where the provider routes are served, e.g. `/webhooks` (then `POST /webhooks/crazyhorse`). */
    prefix?: string;
  }
  /** The plugin itself, for `import { imagegenWebhooks } from "imagegen-webhooks/fastify"`. */
  export const imagegenWebhooks: FastifyPluginCallback<ImagegenWebhooksOptions>;
  /** The plugin itself, for CommonJS code that reads `.default`. */
  const defaultExport: FastifyPluginCallback<ImagegenWebhooksOptions>;
  export { defaultExport as default };
}

fp(imagegenWebhooks, { name: "imagegen-webhooks", fastify: "4.x || 5.x" });
Object.assign(imagegenWebhooks, { default: imagegenWebhooks, imagegenWebhooks });

export = imagegenWebhooks;
