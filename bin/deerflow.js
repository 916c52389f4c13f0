#!/usr/bin/env node
// The `deerflow` command. Sources are TypeScript, loaded through tsx so
// that the command always runs exactly the code in this checkout.
//
// A loaded control plane spends about a tenth less CPU per task with a
// larger young generation: `npm run deerflow` and `npm run demo` start
// node with --max-semi-space-size=64, and the README says to do the same
// (NODE_OPTIONS) for a server (bench/README.md, "The young generation").
// Not here in a `#!/usr/bin/env -S` line: BusyBox's env (Alpine) has no -S.
import { register } from "tsx/esm/api";

register();
const { main } = await import("../cli/main.ts");
await main(process.argv);
