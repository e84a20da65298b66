import type { Scenario } from './scenario';
import { connectionsScenario } from './scenarios/connections';
import { crossNodeScenario } from './scenarios/cross-node';
import { fanoutScenario } from './scenarios/fanout';
import { groupCommitScenario } from './scenarios/group-commit';
import { rampScenario } from './scenarios/ramp';
import { startupScenario } from './scenarios/startup';
import { stormScenario } from './scenarios/storm';

/** Every `pnpm bench <scenario>`; the first is the default. */
export const SCENARIOS: readonly Scenario[] = [groupCommitScenario, fanoutScenario, crossNodeScenario, rampScenario, connectionsScenario, stormScenario, startupScenario];

export function findScenario(name: string): Scenario | undefined {
  return SCENARIOS.find((s) => s.name === name);
}
