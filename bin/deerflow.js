#!/usr/bin/env node
// The `deerflow` command. Sources are TypeScript, loaded through tsx so
// that the command always runs exactly the code in this checkout.
import { register } from "tsx/esm/api";

register();
const { main } = await import("../cli/main.ts");
await main(process.argv);
