// The example app on a loopback port, for its tests: the options are built from the address it
// got, since its storage (and the fake Replicate API) live at that address, as `npm start` sets them.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { createDemoApp, type DemoApp, type DemoOptions } from "../../example-app/app";

export interface ServedExampleApp {
  /** `http://127.0.0.1:<port>`, without a trailing slash. */
  url: string;
  demo: DemoApp;
  close(): Promise<void>;
}

export async function serveExampleApp(optionsFor: (url: string) => DemoOptions, onClose: () => void = () => {}): Promise<ServedExampleApp> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const demo = createDemoApp(optionsFor(url));
  await demo.ready;
  server.on("request", demo.app);
  return {
    url,
    demo,
    async close() {
      await demo.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      onClose();
    },
  };
}
