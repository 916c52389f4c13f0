import { RunState } from "../gen/deerflow/v1/run_pb.js";

/** The states a run ends in: SUCCESS, FAILED or CANCELLED. */
export const FINAL_RUN_STATES: readonly RunState[] = [
  RunState.SUCCESS,
  RunState.FAILED,
  RunState.CANCELLED,
];

/** True once a run has ended; nothing changes it afterwards. */
export function isFinalRunState(state: RunState): boolean {
  return FINAL_RUN_STATES.includes(state);
}
