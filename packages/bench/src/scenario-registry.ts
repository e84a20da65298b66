import type { Scenario } from './scenario';
import { groupCommitScenario } from './scenarios/group-commit';

/** Every `pnpm bench <scenario>`; the first is the default. Later scenarios (fanout, ramp, …) add a line. */
export const SCENARIOS: readonly Scenario[] = [groupCommitScenario];

export function findScenario(name: string): Scenario | undefined {
  return SCENARIOS.find((s) => s.name === name);
}
