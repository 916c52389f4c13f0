#!/usr/bin/env -S node --max-semi-space-size=64
// The `deerflow` command. Sources are TypeScript, loaded through tsx so
// that the command always runs exactly the code in this checkout.
//
// --max-semi-space-size=64 (MiB): a control plane under load allocates
// a short-lived object or more per message and row, and V8's default
// young generation (16 MiB halves) fills several times a second. With
// 64 MiB, fewer of those objects live through a collection and the
// control plane spends about a tenth less CPU per task (bench/README.md,
// "The young generation"). V8 grows the space only under such load.
import { register } from "tsx/esm/api";

register();
const { main } = await import("../cli/main.ts");
await main(process.argv);
