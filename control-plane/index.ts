export type { ControlPlane } from "./control-plane.js";
export { startControlPlane } from "./control-plane.js";
export type { ControlPlaneOptions } from "./control-plane-options.js";
export { OptionError, parseListen } from "./control-plane-options.js";
export type { Database } from "./db/index.js";
export { openDatabase } from "./db/index.js";
export {
  definitionError,
  formatProblem,
} from "./workflows/read-definition.js";
