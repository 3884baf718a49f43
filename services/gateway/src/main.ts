// Gateway process entry: config → platform → gateway → serve → graceful shutdown on signals.
import { createPlatform, exitOnSignals, loadConfigOrExit } from "@shop/platform";
import { loadGatewayConfig } from "./config.js";
import { createGateway } from "./gateway.js";

const config = loadConfigOrExit("gateway", () => loadGatewayConfig({ SHOP_PORT: "8080", ...process.env }));
const platform = await createPlatform("gateway", config);
const gateway = createGateway(platform, config);
exitOnSignals(await gateway.start(), platform.logger);
